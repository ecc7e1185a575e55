package compose

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	godigest "github.com/opencontainers/go-digest"
)

// DigestFunc returns the digest ("sha256:...") of the manifest an image
// reference (docker.io/library/alpine:3) designates in its registry.
type DigestFunc func(ref string) (string, error)

// ResolveDigests pins the image of every service (and of `type: image`
// volumes) to its digest, as `docker compose config
// --resolve-image-digests`: alpine:3 becomes
// docker.io/library/alpine:3@sha256:...; images already pinned are kept;
// services without an image (build only) are left alone.
func ResolveDigests(p *types.Project, digest DigestFunc) (*types.Project, error) {
	return p.WithImagesResolved(func(named reference.Named) (godigest.Digest, error) {
		d, err := digest(named.String())
		if err != nil {
			return "", err
		}
		parsed, err := godigest.Parse(d)
		if err != nil {
			return "", fmt.Errorf("digest of %s: %w", named, err)
		}
		return parsed, nil
	})
}

// Lock returns what `docker compose config --lock-image-digests` prints:
// a project holding only each service's image and `type: image` volumes,
// meant as an override file that pins the images (with ResolveDigests).
func Lock(p *types.Project) *types.Project {
	services := types.Services{}
	for name, s := range p.Services {
		var locked types.ServiceConfig
		locked.Image = s.Image
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeImage {
				locked.Volumes = append(locked.Volumes, v)
			}
		}
		services[name] = locked
	}
	return &types.Project{Services: services}
}

// ResolveModelDigests is ResolveDigests on a raw model (Model, for
// --no-interpolate): each service's image is replaced by its pinned form.
func ResolveModelDigests(m map[string]any, digest DigestFunc) error {
	services, _ := m["services"].(map[string]any)
	p := &types.Project{Services: types.Services{}}
	for name, s := range services {
		if image, ok := s.(map[string]any)["image"].(string); ok {
			s := types.ServiceConfig{Name: name}
			s.Image = image
			p.Services[name] = s
		}
	}
	p, err := ResolveDigests(p, digest)
	if err != nil {
		return err
	}
	for name, s := range p.Services {
		services[name].(map[string]any)["image"] = s.Image
	}
	return nil
}

// LockModel is Lock on a raw model: every top-level key but services goes,
// and every service key but image and `type: image` volumes.
func LockModel(m map[string]any) {
	for key := range m {
		if key != "services" {
			delete(m, key)
		}
	}
	services, _ := m["services"].(map[string]any)
	for _, s := range services {
		service, ok := s.(map[string]any)
		if !ok {
			continue
		}
		for key := range service {
			if key == "image" {
				continue
			}
			if key == "volumes" {
				var images []any
				vols, _ := service[key].([]any)
				for _, v := range vols {
					if vm, ok := v.(map[string]any); ok && vm["type"] == types.VolumeTypeImage {
						images = append(images, v)
					}
				}
				if len(images) > 0 {
					service[key] = images
					continue
				}
			}
			delete(service, key)
		}
	}
}
