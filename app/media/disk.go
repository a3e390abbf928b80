package media

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Folders inside a Disk's root.
const (
	diskObjectsDir = "objects" // object bytes, one plain file per key
	diskTypesDir   = "types"   // content types, one small sidecar file per key
	diskTmpDir     = "tmp"     // files being written, renamed into place when complete
)

// staleTempAge is how old a leftover temporary file must be before NewDisk
// removes it; younger ones may belong to another Disk still writing.
const staleTempAge = time.Hour

// diskLockStripes is the number of locks that keys are spread over.
const diskLockStripes = 64

// Disk is a Store that keeps objects as files under a local folder.
//
// Under the folder given to NewDisk, the bytes of key k are the plain file
// objects/k, its content type is in the sidecar file types/k, and files
// being written wait in tmp/. Put writes to a temporary file and renames it
// into place, so readers never see a partly written object. A key can't
// hold an object when another key uses it as a folder (for example
// "a/b.jpg" and "a/b.jpg/c"): Put then fails. Folders left empty by Delete
// stay.
//
// A Disk is safe for concurrent use. Two processes (or two Disks) writing
// the same key at the same time may leave that object with the other
// writer's content type.
type Disk struct {
	objects string
	types   string
	tmp     string

	// locks keep an object's file and its sidecar consistent for readers
	// and writers in this process; key k uses locks[stripe(k)].
	locks [diskLockStripes]sync.RWMutex
}

var _ Store = (*Disk)(nil)

// NewDisk returns a Disk that keeps its files under dir, creating dir and
// its subfolders when missing. It removes temporary files that an earlier,
// interrupted Put left behind more than an hour ago.
func NewDisk(dir string) (*Disk, error) {
	if dir == "" {
		return nil, errors.New("media: disk folder not set")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("media: disk folder %q: %w", dir, err)
	}
	d := &Disk{
		objects: filepath.Join(abs, diskObjectsDir),
		types:   filepath.Join(abs, diskTypesDir),
		tmp:     filepath.Join(abs, diskTmpDir),
	}
	for _, p := range []string{d.objects, d.types, d.tmp} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, fmt.Errorf("media: create disk folder: %w", err)
		}
	}
	d.removeStaleTemps()
	return d, nil
}

// removeStaleTemps deletes old leftovers in the tmp folder, ignoring errors:
// they only cost space.
func (d *Disk) removeStaleTemps() {
	entries, err := os.ReadDir(d.tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || time.Since(info.ModTime()) < staleTempAge {
			continue
		}
		_ = os.Remove(filepath.Join(d.tmp, e.Name()))
	}
}

// paths returns the object file and sidecar file of a key that ValidKey
// accepted.
func (d *Disk) paths(key string) (object, sidecar string, err error) {
	rel := filepath.FromSlash(key)
	object = filepath.Join(d.objects, rel)
	sidecar = filepath.Join(d.types, rel)
	// ValidKey already rules out escaping the root; check again so that a
	// future change there can't turn into a path traversal here.
	if !strings.HasPrefix(object, d.objects+string(filepath.Separator)) ||
		!strings.HasPrefix(sidecar, d.types+string(filepath.Separator)) {
		return "", "", invalidKey(key, "leaves the store's folder")
	}
	return object, sidecar, nil
}

// lock returns the lock that guards key.
func (d *Disk) lock(key string) *sync.RWMutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return &d.locks[h.Sum32()%diskLockStripes]
}

// Put stores the content of r under key; see Store.Put.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	ct, err := checkContentType(contentType)
	if err != nil {
		return err
	}
	objPath, typePath, err := d.paths(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	objTmp, err := d.writeTemp(ctx, r, size)
	if err != nil {
		return fmt.Errorf("media: put %q: %w", key, err)
	}
	typeTmp, err := d.writeTemp(ctx, strings.NewReader(ct), int64(len(ct)))
	if err != nil {
		_ = os.Remove(objTmp)
		return fmt.Errorf("media: put %q: %w", key, err)
	}
	// Remove the temporary files unless renamed into place (once renamed,
	// their names may already belong to another Put's temporary files).
	renamedObj, renamedType := false, false
	defer func() {
		if !renamedObj {
			_ = os.Remove(objTmp)
		}
		if !renamedType {
			_ = os.Remove(typeTmp)
		}
	}()

	if err := os.MkdirAll(filepath.Dir(objPath), 0o755); err != nil {
		return fmt.Errorf("media: put %q: %w", key, err)
	}
	if err := os.MkdirAll(filepath.Dir(typePath), 0o755); err != nil {
		return fmt.Errorf("media: put %q: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	l := d.lock(key)
	l.Lock()
	defer l.Unlock()
	// A folder in the object's place would make the rename fail with a
	// confusing message; refuse it plainly.
	if info, err := os.Lstat(objPath); err == nil && !info.Mode().IsRegular() {
		return fmt.Errorf("media: put %q: the key is used as a folder by other keys", key)
	}
	// The object goes first: should the process die between the two
	// renames, a new key still has no sidecar and Get falls back to the
	// type its extension suggests.
	if err := os.Rename(objTmp, objPath); err != nil {
		return fmt.Errorf("media: put %q: %w", key, err)
	}
	renamedObj = true
	if err := os.Rename(typeTmp, typePath); err != nil {
		return fmt.Errorf("media: put %q: content type: %w", key, err)
	}
	renamedType = true
	return nil
}

// writeTemp copies r into a new file in the tmp folder and returns its
// name. With size >= 0 it fails unless r yields exactly size bytes.
func (d *Disk) writeTemp(ctx context.Context, r io.Reader, size int64) (name string, err error) {
	f, err := os.CreateTemp(d.tmp, "put-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()

	src := io.Reader(ctxReader{ctx: ctx, r: r})
	if size >= 0 {
		// One byte more than announced is enough to notice a longer input.
		src = io.LimitReader(src, size+1)
	}
	n, err := io.Copy(f, src)
	if err != nil {
		return "", err
	}
	if size >= 0 && n != size {
		if n > size {
			return "", fmt.Errorf("reader yields more than the announced %d bytes", size)
		}
		return "", fmt.Errorf("reader yields %d bytes, %d announced: %w", n, size, io.ErrUnexpectedEOF)
	}
	// CreateTemp makes the file readable by its owner only; stored media
	// should be readable like any other file the process creates.
	if err := f.Chmod(0o644); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// Get opens the object stored under key; see Store.Get.
func (d *Disk) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := ValidKey(key); err != nil {
		return nil, Object{}, err
	}
	objPath, typePath, err := d.paths(key)
	if err != nil {
		return nil, Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Object{}, err
	}

	l := d.lock(key)
	l.RLock()
	defer l.RUnlock()

	f, err := os.Open(objPath)
	if err != nil {
		if isNotExist(err) {
			return nil, Object{}, fmt.Errorf("%w: %q", ErrNotFound, key)
		}
		return nil, Object{}, fmt.Errorf("media: get %q: %w", key, err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Object{}, fmt.Errorf("media: get %q: %w", key, err)
	}
	if !info.Mode().IsRegular() {
		// A folder holding other keys, not an object.
		_ = f.Close()
		return nil, Object{}, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	ct, err := readContentType(typePath, key)
	if err != nil {
		_ = f.Close()
		return nil, Object{}, fmt.Errorf("media: get %q: %w", key, err)
	}
	return f, Object{Key: key, ContentType: ct, Size: info.Size(), ModTime: info.ModTime()}, nil
}

// readContentType reads a key's sidecar. Without one (a Put died between
// its two renames) the type comes from the key's extension.
func readContentType(typePath, key string) (string, error) {
	b, err := os.ReadFile(typePath)
	if err == nil {
		return string(b), nil
	}
	if !isNotExist(err) {
		return "", err
	}
	if ct := mime.TypeByExtension(path.Ext(key)); ct != "" {
		return ct, nil
	}
	return defaultContentType, nil
}

// Delete removes the object stored under key; see Store.Delete.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	objPath, typePath, err := d.paths(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	l := d.lock(key)
	l.Lock()
	defer l.Unlock()

	info, err := os.Lstat(objPath)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("media: delete %q: %w", key, err)
	}
	if !info.Mode().IsRegular() {
		return nil // a folder holding other keys: no object by this key
	}
	if err := os.Remove(objPath); err != nil && !isNotExist(err) {
		return fmt.Errorf("media: delete %q: %w", key, err)
	}
	if err := os.Remove(typePath); err != nil && !isNotExist(err) {
		return fmt.Errorf("media: delete %q: content type: %w", key, err)
	}
	return nil
}

// Ping checks that the store's folders are still there; see Store.Ping.
func (d *Disk) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, p := range []string{d.objects, d.types, d.tmp} {
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("media: disk store: %w", err)
		}
		if !info.IsDir() {
			return fmt.Errorf("media: disk store: %s is not a folder", p)
		}
	}
	return nil
}

// isNotExist reports whether err says that a path is missing, counting a
// path whose parent is a file (ENOTDIR) as missing too.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// ctxReader stops reading once its context is done, so that a cancelled
// request stops a long Put.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the wrapped reader unless the context is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
