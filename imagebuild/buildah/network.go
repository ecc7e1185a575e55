package buildah

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containers/common/libnetwork/network"
	nettypes "github.com/containers/common/libnetwork/types"
	"github.com/containers/common/pkg/config"
	"github.com/containers/storage"
	"github.com/containers/storage/pkg/lockfile"
	"github.com/containers/storage/pkg/unshare"
)

// defaultNetavarkConfigDir is where a rootful netavark keeps its networks.
const defaultNetavarkConfigDir = "/etc/containers/networks"

// networkInterface sets up the network backend RUN steps use, once for all
// builds. Left to itself, containers/common picks CNI for any store that
// has images but no "defaultNetworkBackend" file (a store other than
// Podman's), and RUN then fails where no CNI plugins are installed. Such a
// store gets netavark when it is installed; a store Podman has used keeps
// Podman's choice.
func networkInterface(store storage.Store, conf *config.Config) (nettypes.ContainerNetwork, error) {
	c := *conf
	if c.Network.NetworkBackend == "" {
		_, err := os.Stat(filepath.Join(store.GraphRoot(), "defaultNetworkBackend"))
		if _, lookErr := c.FindHelperBinary("netavark", false); errors.Is(err, fs.ErrNotExist) && lookErr == nil {
			c.Network.NetworkBackend = string(nettypes.Netavark)
		}
	}
	backend, netInt, err := network.NetworkBackend(store, &c, false)
	if err != nil || backend != nettypes.Netavark || unshare.IsRootless() {
		return netInt, err
	}
	dir := c.Network.NetworkConfigDir
	if dir == "" {
		dir = defaultNetavarkConfigDir
	}
	if _, err := os.Stat(filepath.Join(dir, "netavark.lock")); err != nil {
		return netInt, nil // no Podman 4.x has used this host's networks
	}
	lock, err := lockfile.GetLockFile(filepath.Join(dir, "netavark.lock"))
	if err != nil {
		return nil, fmt.Errorf("opening netavark lock: %w", err)
	}
	return &lockedNetwork{ContainerNetwork: netInt, lock: lock}, nil
}

// lockedNetwork also takes Podman 4.x's netavark lock around network setup
// and teardown. containers/common 0.57 (ours) serialises rootful netavark
// runs with /run/lock/netavark.lock, while Podman 4.3 uses
// <config dir>/netavark.lock, so without this a RUN step and a Podman
// container starting or stopping on the same network race on its iptables
// chains: "unable to append rule '-d 10.88.0.0/16 -j ACCEPT' to table
// 'nat': No chain/target/match by that name" (4 builds of 15 here).
type lockedNetwork struct {
	nettypes.ContainerNetwork
	lock *lockfile.LockFile
}

// Setup configures a RUN step's network namespace under both locks.
func (n *lockedNetwork) Setup(namespacePath string, options nettypes.SetupOptions) (map[string]nettypes.StatusBlock, error) {
	n.lock.Lock()
	defer n.lock.Unlock()
	return n.ContainerNetwork.Setup(namespacePath, options)
}

// Teardown releases a RUN step's network under both locks.
func (n *lockedNetwork) Teardown(namespacePath string, options nettypes.TeardownOptions) error {
	n.lock.Lock()
	defer n.lock.Unlock()
	return n.ContainerNetwork.Teardown(namespacePath, options)
}
