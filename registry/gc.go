package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/storage"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// GCOptions selects what GC removes besides unreferenced data.
type GCOptions struct {
	// KeepLast, when > 0, keeps the KeepLast most recently pushed tags of each
	// repository; older ones are removed (only those older than OlderThan
	// when that is set too).
	KeepLast int
	// OlderThan, when > 0, removes tags last pushed more than OlderThan ago
	// (except those protected by KeepLast).
	OlderThan time.Duration
	// DryRun reports what would be removed without removing anything.
	DryRun bool
	// Now is the reference time for OlderThan; nil means time.Now.
	Now func() time.Time
}

// GCResult reports what GC removed, or would remove on a dry run.
type GCResult struct {
	// Tags are the removed tags as "repo:tag", sorted.
	Tags []string
	// Manifests counts removed manifest revisions (per repository).
	Manifests int
	// Blobs counts removed blobs (layers, configs and manifests).
	Blobs int
	// Bytes is the size of the removed blobs.
	Bytes int64
	// Uploads counts removed abandoned uploads.
	Uploads int
}

// staleUpload is how old an unfinished upload must be for GC to remove it.
const staleUpload = time.Hour

// repositoriesDir is where distribution's filesystem layout keeps repositories.
const repositoriesDir = "/docker/registry/v2/repositories"

// GC collects garbage in the registry storage at root, which no server may be
// using (ErrRootInUse otherwise). It first removes tags selected by opts,
// then every manifest no tag refers to, then blobs no remaining manifest
// refers to (distribution's mark and sweep), and abandoned uploads.
func GC(ctx context.Context, root string, opts GCOptions) (GCResult, error) {
	var res GCResult
	if opts.KeepLast < 0 || opts.OlderThan < 0 {
		return res, errors.New("gc: keep-last and older-than must not be negative")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return res, fmt.Errorf("resolving registry root: %w", err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return res, fmt.Errorf("registry root %s is not a directory", root)
	}
	lock, err := lockRoot(root)
	if err != nil {
		return res, err
	}
	defer lock.unlock()

	ctx = withLogger(ctx, newLogSink(nil).entry)
	driver := filesystem.New(filesystem.DriverParameters{RootDirectory: root, MaxThreads: 100})
	ns, err := storage.NewRegistry(ctx, driver, storage.EnableDelete)
	if err != nil {
		return res, fmt.Errorf("opening registry storage: %w", err)
	}
	st, err := scan(ctx, driver, ns)
	if err != nil {
		return res, err
	}
	removed := planTags(st.tags, opts.KeepLast, opts.OlderThan, now())
	for _, t := range removed {
		res.Tags = append(res.Tags, t.repo+":"+t.name)
	}

	if opts.DryRun {
		marked, err := mark(ctx, ns, st, removed)
		if err != nil {
			return res, err
		}
		for _, ms := range st.manifests {
			for _, d := range ms {
				if _, ok := marked[d]; !ok {
					res.Manifests++
				}
			}
		}
		for d, size := range st.blobs {
			if _, ok := marked[d]; !ok {
				res.Blobs++
				res.Bytes += size
			}
		}
		res.Uploads, err = removeUploads(root, now().Add(-staleUpload), true)
		return res, err
	}

	for _, t := range removed {
		if err := untag(ctx, ns, t); err != nil {
			return res, err
		}
	}
	if len(st.blobs) > 0 { // MarkAndSweep fails on a storage without blobs
		err = storage.MarkAndSweep(ctx, driver, ns, storage.GCOpts{RemoveUntagged: true, Quiet: true})
		if err != nil {
			return res, fmt.Errorf("collecting garbage in %s: %w", root, err)
		}
	}
	after, err := scan(ctx, driver, ns)
	if err != nil {
		return res, err
	}
	res.Manifests = st.manifestCount() - after.manifestCount()
	for d, size := range st.blobs {
		if _, ok := after.blobs[d]; !ok {
			res.Blobs++
			res.Bytes += size
		}
	}
	res.Uploads, err = removeUploads(root, now().Add(-staleUpload), false)
	return res, err
}

// tagInfo is a tag and when it was last pushed.
type tagInfo struct {
	repo, name string
	pushed     time.Time
}

// storageState is what GC needs to know about a registry's content.
type storageState struct {
	repos     []string
	tags      map[string][]tagInfo
	manifests map[string][]digest.Digest
	blobs     map[digest.Digest]int64
}

func (s storageState) manifestCount() int {
	n := 0
	for _, ms := range s.manifests {
		n += len(ms)
	}
	return n
}

func scan(ctx context.Context, driver storagedriver.StorageDriver, ns distribution.Namespace) (storageState, error) {
	st := storageState{
		tags:      map[string][]tagInfo{},
		manifests: map[string][]digest.Digest{},
		blobs:     map[digest.Digest]int64{},
	}
	enum, ok := ns.(distribution.RepositoryEnumerator)
	if !ok {
		return st, errors.New("registry storage cannot enumerate repositories")
	}
	err := enum.Enumerate(ctx, func(name string) error {
		st.repos = append(st.repos, name)
		return nil
	})
	if err != nil && !isPathNotFound(err) {
		return st, fmt.Errorf("listing repositories: %w", err)
	}
	for _, name := range st.repos {
		repo, err := repository(ctx, ns, name)
		if err != nil {
			return st, err
		}
		tags, err := repo.Tags(ctx).All(ctx)
		var unknown distribution.ErrRepositoryUnknown
		if err != nil && !errors.As(err, &unknown) {
			return st, fmt.Errorf("listing tags of %s: %w", name, err)
		}
		for _, tag := range tags {
			fi, err := driver.Stat(ctx, path.Join(repositoriesDir, name, "_manifests/tags", tag, "current/link"))
			if err != nil {
				return st, fmt.Errorf("reading tag %s:%s: %w", name, tag, err)
			}
			st.tags[name] = append(st.tags[name], tagInfo{repo: name, name: tag, pushed: fi.ModTime()})
		}
		ms, err := repo.Manifests(ctx)
		if err != nil {
			return st, fmt.Errorf("opening manifests of %s: %w", name, err)
		}
		menum, ok := ms.(distribution.ManifestEnumerator)
		if !ok {
			return st, fmt.Errorf("manifests of %s cannot be enumerated", name)
		}
		err = menum.Enumerate(ctx, func(d digest.Digest) error {
			st.manifests[name] = append(st.manifests[name], d)
			return nil
		})
		if err != nil && !isPathNotFound(err) {
			return st, fmt.Errorf("listing manifests of %s: %w", name, err)
		}
	}
	var digests []digest.Digest
	err = ns.Blobs().Enumerate(ctx, func(d digest.Digest) error {
		digests = append(digests, d)
		return nil
	})
	if err != nil && !isPathNotFound(err) {
		return st, fmt.Errorf("listing blobs: %w", err)
	}
	for _, d := range digests {
		desc, err := ns.BlobStatter().Stat(ctx, d)
		if err != nil {
			return st, fmt.Errorf("reading blob %s: %w", d, err)
		}
		st.blobs[d] = desc.Size
	}
	return st, nil
}

// planTags selects the tags to remove: per repository, all but the keepLast
// most recently pushed (when keepLast > 0), restricted to or selected by
// those pushed before now-olderThan (when olderThan > 0).
func planTags(tags map[string][]tagInfo, keepLast int, olderThan time.Duration, now time.Time) []tagInfo {
	if keepLast <= 0 && olderThan <= 0 {
		return nil
	}
	var out []tagInfo
	for _, ts := range tags {
		ts = append([]tagInfo(nil), ts...)
		sort.Slice(ts, func(i, j int) bool {
			if !ts[i].pushed.Equal(ts[j].pushed) {
				return ts[i].pushed.After(ts[j].pushed)
			}
			return ts[i].name < ts[j].name
		})
		for i, t := range ts {
			if keepLast > 0 && i < keepLast {
				continue
			}
			if olderThan > 0 && !t.pushed.Before(now.Add(-olderThan)) {
				continue
			}
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].repo != out[j].repo {
			return out[i].repo < out[j].repo
		}
		return out[i].name < out[j].name
	})
	return out
}

// mark returns every digest still referenced once the removed tags are gone,
// following the rules of distribution's MarkAndSweep with RemoveUntagged:
// tagged manifests and, recursively, what they reference.
func mark(ctx context.Context, ns distribution.Namespace, st storageState, removed []tagInfo) (map[digest.Digest]struct{}, error) {
	gone := map[string]bool{}
	for _, t := range removed {
		gone[t.repo+":"+t.name] = true
	}
	marked := map[digest.Digest]struct{}{}
	for _, name := range st.repos {
		repo, err := repository(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		ms, err := repo.Manifests(ctx)
		if err != nil {
			return nil, fmt.Errorf("opening manifests of %s: %w", name, err)
		}
		var walk func(d digest.Digest) error
		walk = func(d digest.Digest) error {
			m, err := ms.Get(ctx, d)
			if err != nil {
				return fmt.Errorf("reading manifest %s@%s: %w", name, d, err)
			}
			for _, ref := range m.References() {
				if _, ok := marked[ref.Digest]; ok {
					continue
				}
				marked[ref.Digest] = struct{}{}
				if ok, _ := ms.Exists(ctx, ref.Digest); ok {
					if err := walk(ref.Digest); err != nil {
						return err
					}
				}
			}
			return nil
		}
		for _, t := range st.tags[name] {
			if gone[name+":"+t.name] {
				continue
			}
			desc, err := repo.Tags(ctx).Get(ctx, t.name)
			if err != nil {
				return nil, fmt.Errorf("reading tag %s:%s: %w", name, t.name, err)
			}
			if _, ok := marked[desc.Digest]; ok {
				continue
			}
			marked[desc.Digest] = struct{}{}
			if err := walk(desc.Digest); err != nil {
				return nil, err
			}
		}
	}
	return marked, nil
}

func untag(ctx context.Context, ns distribution.Namespace, t tagInfo) error {
	repo, err := repository(ctx, ns, t.repo)
	if err != nil {
		return err
	}
	if err := repo.Tags(ctx).Untag(ctx, t.name); err != nil {
		return fmt.Errorf("removing tag %s:%s: %w", t.repo, t.name, err)
	}
	return nil
}

func repository(ctx context.Context, ns distribution.Namespace, name string) (distribution.Repository, error) {
	named, err := reference.WithName(name)
	if err != nil {
		return nil, fmt.Errorf("parsing repository name %q: %w", name, err)
	}
	repo, err := ns.Repository(ctx, named)
	if err != nil {
		return nil, fmt.Errorf("opening repository %s: %w", name, err)
	}
	return repo, nil
}

// removeUploads removes (or, on a dry run, counts) upload directories whose
// newest file is older than before.
func removeUploads(root string, before time.Time, dryRun bool) (int, error) {
	base := filepath.Join(root, filepath.FromSlash(repositoriesDir))
	var stale []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "_manifests", "_layers":
			return filepath.SkipDir
		case "_uploads":
			entries, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			for _, e := range entries {
				dir := filepath.Join(p, e.Name())
				newest, err := newestModTime(dir)
				if err != nil {
					return err
				}
				if newest.Before(before) {
					stale = append(stale, dir)
				}
			}
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("scanning uploads: %w", err)
	}
	if dryRun {
		return len(stale), nil
	}
	for _, dir := range stale {
		if err := os.RemoveAll(dir); err != nil {
			return 0, fmt.Errorf("removing abandoned upload: %w", err)
		}
	}
	return len(stale), nil
}

func newestModTime(dir string) (time.Time, error) {
	var newest time.Time
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
		return nil
	})
	return newest, err
}

func isPathNotFound(err error) bool {
	var pnf storagedriver.PathNotFoundError
	return errors.As(err, &pnf)
}
