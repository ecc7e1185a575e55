package runner

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// picked holds the host ports freeHostPort has handed out in this process,
// so that replicas created before any of them starts get different ports.
var picked = struct {
	sync.Mutex
	ports map[string]bool
}{ports: map[string]bool{}}

// freeHostPort returns a port of [first, last] that nothing listens on
// (for proto, on hostIP or every address) and that this process has not
// handed out yet, as the docker engine does for a published range mapped
// to one container port. It probes the local host: cirun's engine runs on
// the same machine. SCTP cannot be probed: the first port not handed out
// is taken.
func freeHostPort(hostIP, proto string, first, last uint16) (uint16, error) {
	picked.Lock()
	defer picked.Unlock()
	for port := int(first); port <= int(last); port++ {
		key := proto + "/" + net.JoinHostPort(hostIP, strconv.Itoa(port))
		if picked.ports[key] || !portFree(hostIP, proto, port) {
			continue
		}
		picked.ports[key] = true
		return uint16(port), nil
	}
	return 0, fmt.Errorf("no free host port in %d-%d/%s", first, last, proto)
}

func portFree(hostIP, proto string, port int) bool {
	addr := net.JoinHostPort(hostIP, strconv.Itoa(port))
	switch proto {
	case "udp":
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
	case "tcp":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}
