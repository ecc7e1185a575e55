package runner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cirun-dev/cirun/engine"
)

// Action kinds of a plan.
const (
	ActCreate   = "create"
	ActRecreate = "recreate"
	ActStart    = "start"
	ActKeep     = "keep"
	ActRemove   = "remove"
)

// Action is one step of converging a service's containers.
type Action struct {
	Kind     string
	Service  string
	Number   int
	Existing *engine.Container // for recreate, start, keep, remove
	Reason   string
}

func (a Action) String() string {
	s := fmt.Sprintf("%s-%d: %s", a.Service, a.Number, a.Kind)
	if a.Reason != "" {
		s += " (" + a.Reason + ")"
	}
	return s
}

// Plan is the list of actions for some services, in a stable order.
type Plan []Action

func (p Plan) String() string {
	lines := make([]string, len(p))
	for i, a := range p {
		lines[i] = a.String()
	}
	return strings.Join(lines, "\n")
}

// desired is what a service's containers should look like.
type desired struct {
	Service  string
	Replicas int
	Hash     string
	ImageID  string
	Volumes  string // volumesKey; "" skips the check
}

// recreatePolicy is `up`'s --force-recreate / --no-recreate.
type recreatePolicy int

const (
	recreateDiverged recreatePolicy = iota // default: recreate when config or image changed
	recreateForce
	recreateNever
)

// decide computes the actions that bring existing containers of one service
// to want. It is pure: tests compare Plan.String() without any engine.
func decide(want desired, existing []engine.Container, policy recreatePolicy) Plan {
	byNum := map[int]*engine.Container{}
	var extra []*engine.Container
	for i := range existing {
		c := &existing[i]
		n, err := strconv.Atoi(c.Labels[engine.LabelContainerNumber])
		if err != nil || n < 1 || byNum[n] != nil {
			extra = append(extra, c)
			continue
		}
		byNum[n] = c
	}
	reasonOf := func(c *engine.Container) string {
		switch {
		case policy == recreateForce:
			return "forced"
		case policy == recreateNever:
			return ""
		case c.Labels[engine.LabelConfigHash] != want.Hash:
			return "config changed"
		case want.ImageID != "" && c.Labels[engine.LabelImage] != want.ImageID:
			return "image changed"
		case want.Volumes != "" && c.Labels[engine.LabelVolumes] != "" && c.Labels[engine.LabelVolumes] != want.Volumes:
			return "volumes changed"
		}
		return ""
	}
	// Scaling down removes, as docker compose, the containers that are
	// out of date first (they would be recreated), then the highest
	// numbers; the replicas kept keep their numbers.
	if surplus := len(byNum) - want.Replicas; surplus > 0 {
		nums := make([]int, 0, len(byNum))
		for n := range byNum {
			nums = append(nums, n)
		}
		sort.Slice(nums, func(i, j int) bool {
			oi, oj := reasonOf(byNum[nums[i]]) != "", reasonOf(byNum[nums[j]]) != ""
			if oi != oj {
				return oi
			}
			return nums[i] > nums[j]
		})
		for _, n := range nums[:surplus] {
			extra = append(extra, byNum[n])
			delete(byNum, n)
		}
	}
	var plan Plan
	creates := want.Replicas - len(byNum) // at the lowest free numbers
	for n := 1; len(byNum) > 0 || creates > 0; n++ {
		c := byNum[n]
		if c == nil {
			if creates > 0 {
				creates--
				plan = append(plan, Action{Kind: ActCreate, Service: want.Service, Number: n})
			}
			continue
		}
		delete(byNum, n)
		switch reason := reasonOf(c); {
		case reason != "":
			plan = append(plan, Action{Kind: ActRecreate, Service: want.Service, Number: n, Existing: c, Reason: reason})
		case !c.Running():
			plan = append(plan, Action{Kind: ActStart, Service: want.Service, Number: n, Existing: c})
		default:
			plan = append(plan, Action{Kind: ActKeep, Service: want.Service, Number: n, Existing: c})
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	for _, c := range extra {
		n, _ := strconv.Atoi(c.Labels[engine.LabelContainerNumber])
		plan = append(plan, Action{Kind: ActRemove, Service: want.Service, Number: n, Existing: c, Reason: "scaled down"})
	}
	return plan
}
