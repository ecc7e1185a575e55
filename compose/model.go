package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"go.yaml.in/yaml/v4"
)

// Model returns the compose files o designates merged into one raw model,
// as `docker compose config --no-interpolate` prints it: variables are left
// as written (${PORT:-8080}), while includes, extends, overrides, relative
// paths and short syntaxes are resolved and the project name and default
// network are set. Profiles are not applied and env files are not read into
// environment; cirun's support check does not run (the model is not a
// project). Every error is an *Error.
func Model(ctx context.Context, o Options) (map[string]any, error) {
	return model(ctx, o, false)
}

// Variables returns the variables the compose files use, by name, with
// their default and alternate values and whether they are required, as
// `docker compose config --variables` does. The files are not validated
// beyond YAML syntax.
func Variables(ctx context.Context, o Options) (map[string]template.Variable, error) {
	m, err := model(ctx, o, true)
	if err != nil {
		return nil, err
	}
	return template.ExtractVariables(m, template.DefaultPattern), nil
}

func model(ctx context.Context, o Options, skipValidation bool) (m map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, &Error{Msg: fmt.Sprintf("internal error in the compose loader: %v", r)}
		}
	}()
	defer captureWarnings(o.Warn)()
	in, err := prepare(o)
	if err != nil {
		return nil, err
	}
	m, err = loader.LoadModelWithContext(ctx, in.details,
		projectName(in.po, in.details.WorkingDir),
		func(lo *loader.Options) {
			o.loaderOptions(lo)
			lo.SkipInterpolation = true
			lo.SkipResolveEnvironment = true
			lo.SkipValidation = skipValidation
		})
	if err != nil {
		return nil, loadError(err, in.src)
	}
	return m, nil
}

// RenderModel returns a model from Model as docker compose prints it:
// format "yaml" (the default when empty; keys sorted, 2-space indent) or
// "json" (2-space indent, no final newline). Unlike Render it escapes
// nothing: the variables are meant to stay variables.
func RenderModel(m map[string]any, format string) ([]byte, error) {
	switch format {
	case "", "yaml":
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(m); err != nil {
			return nil, fmt.Errorf("rendering the model as yaml: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("rendering the model as yaml: %w", err)
		}
		return b.Bytes(), nil
	case "json":
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("rendering the model as json: %w", err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("unsupported format %q (yaml or json)", format)
	}
}

// RenderVariables returns vars as `docker compose config --variables`
// prints them: format "json" (4-space indent), "yaml" (yaml's default
// 4-space indent, lowercase field names) or "" / "table" (a table with
// NAME, REQUIRED, DEFAULT VALUE and ALTERNATE VALUE columns).
func RenderVariables(vars map[string]template.Variable, format string) ([]byte, error) {
	var b bytes.Buffer
	switch format {
	case "json":
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "    ")
		if err := enc.Encode(vars); err != nil {
			return nil, fmt.Errorf("rendering variables as json: %w", err)
		}
		b.WriteByte('\n') // docker compose prints the encoder's line with Println
	case "yaml":
		out, err := yaml.Marshal(vars)
		if err != nil {
			return nil, fmt.Errorf("rendering variables as yaml: %w", err)
		}
		b.Write(out)
	case "", "table":
		// docker compose's formatter.PrintPrettySection
		tw := tabwriter.NewWriter(&b, 20, 1, 3, ' ', 0)
		fmt.Fprintln(tw, "NAME\tREQUIRED\tDEFAULT VALUE\tALTERNATE VALUE")
		for _, name := range slices.Sorted(maps.Keys(vars)) {
			v := vars[name]
			fmt.Fprintf(tw, "%s\t%t\t%s\t%s\n", name, v.Required, v.DefaultValue, v.PresenceValue)
		}
		if err := tw.Flush(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unsupported format %q (table, json or yaml)", format)
	}
	return b.Bytes(), nil
}
