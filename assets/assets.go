// Package assets embeds the CSS, JavaScript and images and serves them under
// fingerprinted names, so browsers may cache them for a year.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed css js img
var FS embed.FS

// Fingerprints maps asset paths to their fingerprinted URLs and back.
type Fingerprints struct {
	byPath map[string]string // "css/app.css" -> "/assets/css/app.1a2b3c4d.css"
	byURL  map[string]string // "css/app.1a2b3c4d.css" -> "css/app.css"
}

// Fingerprint hashes every embedded asset.
func Fingerprint() (*Fingerprints, error) {
	f := &Fingerprints{byPath: map[string]string{}, byURL: map[string]string{}}
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		name := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:])[:10] + ext
		f.byPath[p] = "/assets/" + name
		f.byURL[name] = p
		return nil
	})
	return f, err
}

// Path returns the fingerprinted URL of an asset; templates call {{asset "css/app.css"}}.
// An unknown asset panics at template execution, which the template tests catch.
func (f *Fingerprints) Path(p string) string {
	u, ok := f.byPath[p]
	if !ok {
		panic("assets: unknown asset " + p)
	}
	return u
}

// Open resolves a fingerprinted name to the asset's bytes and content type.
func (f *Fingerprints) Open(name string) ([]byte, string, bool) {
	p, ok := f.byURL[name]
	if !ok {
		return nil, "", false
	}
	b, err := FS.ReadFile(p)
	if err != nil {
		return nil, "", false
	}
	ct := mime.TypeByExtension(path.Ext(p))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return b, ct, true
}
