package podman

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/podman/rest"
	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/bindings/system"
	"github.com/containers/podman/v4/pkg/errorhandling"
)

// Engine is engine.Engine over one Podman service connection. It is safe
// for concurrent use.
type Engine struct {
	conn     context.Context // carries the bindings connection
	endpoint string
	source   string // how the endpoint was chosen, see Source
	opts     Options
	svc      *service // cirun's own service, nil when connected elsewhere
	rest     *rest.Client

	infoMu sync.Mutex
	info   engine.Info
}

var _ engine.Engine = (*Engine)(nil)

// Endpoint sources, as reported by Source.
const (
	SourceOption = "option"         // Options.Host
	SourceEnv    = "CONTAINER_HOST" // the CONTAINER_HOST variable
	SourceSystem = "system"         // a running system/user podman socket
	SourceOwn    = "own"            // cirun's own podman system service
)

// Endpoint returns the URI of the service the engine talks to.
func (e *Engine) Endpoint() string { return e.endpoint }

// Source says how the endpoint was chosen: SourceOption, SourceEnv,
// SourceSystem or SourceOwn.
func (e *Engine) Source() string { return e.source }

// Close releases idle connections. cirun's own service keeps running until
// it has been idle for Options.ServiceIdle, so the next run reuses it.
func (e *Engine) Close() {
	if c, err := bindings.GetClient(e.conn); err == nil {
		c.Client.CloseIdleConnections()
	}
}

// callCtx is a context with the caller's deadline and cancellation and the
// connection's values, so bindings find their client.
type callCtx struct {
	context.Context
	values context.Context
}

func (c callCtx) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.values.Value(key)
}

// ctx returns the context to pass to a bindings call.
func (e *Engine) ctx(ctx context.Context) context.Context {
	return callCtx{Context: ctx, values: e.conn}
}

// Info describes the service (cached after the first success).
func (e *Engine) Info(ctx context.Context) (engine.Info, error) {
	e.infoMu.Lock()
	defer e.infoMu.Unlock()
	if e.info.Name != "" {
		return e.info, nil
	}
	i, err := system.Info(e.ctx(ctx), nil)
	if err != nil {
		return engine.Info{}, fmt.Errorf("reading podman info from %s: %w", e.endpoint, mapErr(err, nil))
	}
	e.info = engine.Info{
		Name:       "podman",
		Version:    i.Version.Version,
		APIVersion: i.Version.APIVersion,
		Rootless:   i.Host.Security.Rootless,
		Runtime:    i.Host.OCIRuntime.Name,
		Storage:    i.Store.GraphDriverName,
		Network:    i.Host.NetworkBackend,
		Endpoint:   e.endpoint,
	}
	return e.info, nil
}

// Causes Podman 4.3 reports (the "cause" of its error responses), mapped to
// engine's sentinels. Podman answers many of them with status 500, so the
// status code alone is not enough.
var (
	notFoundCauses = []string{
		"no such container", "no such image", "image not known", "no such volume",
		"network not found", "no such network", "no such exec session", "no such object",
		"no such pod",
	}
	conflictCauses = []string{
		"already in use", "already exists", "is being used", "volume is in use",
		"container state improper", "has dependent containers", "is in use",
	}
	notRunningCauses = []string{"container state improper", "is not running"}
)

// mapErr wraps a bindings error so that errors.Is matches engine's
// sentinels. notRunning, when non-nil, is used instead of ErrConflict for
// "container state improper" (the container is not running).
func mapErr(err error, notRunning error) error {
	if err == nil {
		return nil
	}
	var model *errorhandling.ErrorModel
	code, cause, msg := 0, "", err.Error()
	if errors.As(err, &model) {
		code, cause, msg = model.ResponseCode, model.Because, model.Message
	} else if m, ok := err.(errorhandling.ErrorModel); ok {
		code, cause, msg = m.ResponseCode, m.Because, m.Message
	}
	text := strings.ToLower(cause + " " + msg)
	has := func(list []string) bool {
		for _, s := range list {
			if strings.Contains(text, s) {
				return true
			}
		}
		return false
	}
	switch {
	case notRunning != nil && has(notRunningCauses):
		return fmt.Errorf("%w: %w", notRunning, err)
	case code == 404 || has(notFoundCauses):
		return fmt.Errorf("%w: %w", engine.ErrNotFound, err)
	case code == 409 || has(conflictCauses):
		return fmt.Errorf("%w: %w", engine.ErrConflict, err)
	}
	return err
}

// seconds converts a duration to whole seconds, rounding up, for APIs
// that take seconds.
func seconds(d time.Duration) uint {
	if d <= 0 {
		return 0
	}
	return uint((d + time.Second - 1) / time.Second)
}
