package files

import (
	"cmp"
	"fmt"
	"time"

	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/sites"
)

// Config sets the workload's limits.
type Config struct {
	// MaxFileSize caps a file's size, whatever the upload path (default 250 MiB).
	MaxFileSize int64
	// MaxChunk caps one upload session fragment (default 60 MiB, Graph's limit).
	MaxChunk int64
	// SessionLifetime is how long an upload session stays open (default 7 days, as
	// the expirationDateTime Graph hands out).
	SessionLifetime time.Duration
}

// maxSimpleUpload is Graph's limit for PUT …/content; larger files need a session.
const maxSimpleUpload = 4 << 20

func (c *Config) fill() error {
	c.MaxFileSize = cmp.Or(c.MaxFileSize, 250<<20)
	c.MaxChunk = cmp.Or(c.MaxChunk, 60<<20)
	c.SessionLifetime = cmp.Or(c.SessionLifetime, 7*24*time.Hour)
	if c.MaxFileSize < 0 || c.MaxChunk < 0 || c.SessionLifetime < 0 {
		return fmt.Errorf("files: limits must be positive")
	}
	return nil
}

// Workload serves drives and drive items.
type Workload struct {
	st    store.Store
	ident *identity.Service
	sites *sites.Workload
	cfg   Config
}

// New returns the files workload. sites resolves site document libraries.
func New(st store.Store, ident *identity.Service, s *sites.Workload, cfg Config) (*Workload, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &Workload{st: st, ident: ident, sites: s, cfg: cfg}, nil
}

// drivePrefixes are the ways Graph names a drive; every item route exists under each.
var drivePrefixes = []string{"drives/{drive}", "users/{user}/drive", "sites/{site}/drive", "groups/{group}/drive"}

// Routes registers the Graph routes.
func (w *Workload) Routes(r *httpapi.Router) {
	upload := httpapi.RouteOptions{RawBody: true, MaxBody: maxSimpleUpload}
	for _, p := range drivePrefixes {
		r.Handle("GET", p, w.getDrive)
		r.Handle("GET", p+"/root", w.getItem)
		r.Handle("GET", p+"/root/children", w.listChildren)
		r.Handle("POST", p+"/root/children", w.createFolder)
		r.Handle("GET", p+"/root/delta", w.delta)
		r.Handle("GET", p+"/root/delta/{token}", w.delta)
		r.Handle("GET", p+"/root:/{path}", w.getItem)
		r.Handle("PATCH", p+"/root:/{path}", w.updateItem)
		r.Handle("DELETE", p+"/root:/{path}", w.deleteItem)
		r.Handle("GET", p+"/root:/{path}/children", w.listChildren)
		r.Handle("POST", p+"/root:/{path}/children", w.createFolder)
		r.Handle("GET", p+"/root:/{path}/content", w.download)
		r.Handle("PUT", p+"/root:/{path}/content", w.uploadByPath, upload)
		r.Handle("POST", p+"/root:/{path}/createUploadSession", w.createSession)
		r.Handle("POST", p+"/root:/{path}/copy", w.copyItem)
		r.Handle("GET", p+"/items/{item}", w.getItem)
		r.Handle("PATCH", p+"/items/{item}", w.updateItem)
		r.Handle("DELETE", p+"/items/{item}", w.deleteItem)
		r.Handle("GET", p+"/items/{item}/children", w.listChildren)
		r.Handle("POST", p+"/items/{item}/children", w.createFolder)
		r.Handle("GET", p+"/items/{item}/content", w.download)
		r.Handle("PUT", p+"/items/{item}/content", w.uploadByID, upload)
		r.Handle("POST", p+"/items/{item}/createUploadSession", w.createSession)
		r.Handle("POST", p+"/items/{item}/copy", w.copyItem)
		r.Handle("GET", p+"/items/{item}:/{path}", w.getItem)
		r.Handle("GET", p+"/items/{item}:/{path}/children", w.listChildren)
		r.Handle("GET", p+"/items/{item}:/{path}/content", w.download)
		r.Handle("PUT", p+"/items/{item}:/{path}/content", w.uploadByPath, upload)
		r.Handle("POST", p+"/items/{item}:/{path}/createUploadSession", w.createSession)
	}
	// Upload URLs and copy monitors are pre-authenticated, as Graph's are: the
	// unguessable id in the path is the credential, and SDKs send no token.
	chunk := httpapi.RouteOptions{RawBody: true, MaxBody: w.cfg.MaxChunk, NoAuth: true}
	r.Handle("PUT", "drives/{drive}/uploadSessions/{session}", w.uploadChunk, chunk)
	r.Handle("GET", "drives/{drive}/uploadSessions/{session}", w.getSession, httpapi.RouteOptions{NoAuth: true})
	r.Handle("DELETE", "drives/{drive}/uploadSessions/{session}", w.cancelSession, httpapi.RouteOptions{NoAuth: true})
	r.Handle("GET", "drives/{drive}/operations/{operation}", w.getOperation, httpapi.RouteOptions{NoAuth: true})
}
