package fake_test

import (
	"testing"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/enginetest"
	"github.com/cirun-dev/cirun/engine/fake"
)

const testImage = "localhost/cirun/busybox:latest"

func newFake(t *testing.T) engine.Engine {
	e := fake.New()
	e.AddImage(testImage, engine.Image{})
	e.AddImage("localhost/cirun/health:latest", engine.Image{
		Healthcheck: &engine.Healthcheck{Test: []string{"CMD-SHELL", "true"}},
	})
	return e
}

func TestConformance(t *testing.T) {
	enginetest.Run(t, newFake, enginetest.Options{
		Image:       testImage,
		HealthImage: "localhost/cirun/health:latest",
	})
}
