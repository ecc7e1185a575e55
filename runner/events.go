package runner

import "time"

// Event is one progress event. The CLI renders events (plain lines, tty or
// JSON) on stderr; the runner never writes progress itself.
type Event struct {
	// Kind is the object: "Container", "Network", "Volume", "Image".
	Kind string
	// Name is the object's name (container name, image reference, ...).
	Name string
	// Status is docker compose's word: Creating, Created, Starting, Started,
	// Waiting, Healthy, Stopping, Stopped, Removing, Removed, Building,
	// Built, Pulling, Pulled, Recreate, Running, Exited, Error.
	Status string
	// Detail is optional extra text (an error, an exit code, a duration).
	Detail string
	Time   time.Time
}

// Events receives progress events; it must be safe for concurrent use.
type Events func(Event)
