package ollamatest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a simulated Ollama listening on a TCP address.
type Server struct {
	// URL is the base URL of the server, "http://127.0.0.1:PORT", with no
	// trailing slash.
	URL string
	// Handler is the handler answering the requests.
	Handler *Handler

	srv   *http.Server
	ln    net.Listener
	done  chan struct{}
	once  sync.Once
	errMu sync.Mutex
	err   error
}

// NewServer starts a Server on a free loopback port. Like
// httptest.NewServer it panics when it cannot listen, which on a loopback
// address only happens when the machine is out of ports or descriptors. Call
// Close when done.
func NewServer(cfg Config) *Server {
	s, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		panic(err)
	}
	return s
}

// Listen starts a Server on addr ("127.0.0.1:11434", ":0"). Call Close when
// done.
func Listen(addr string, cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ollamatest: listen on %s: %w", addr, err)
	}
	h := NewHandler(cfg)
	s := &Server{
		URL:     "http://" + ln.Addr().String(),
		Handler: h,
		srv:     &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		ln:      ln,
		done:    make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errMu.Lock()
			s.err = fmt.Errorf("ollamatest: serve on %s: %w", s.URL, err)
			s.errMu.Unlock()
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on ("127.0.0.1:PORT").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close ends every stream in flight, closes the listener and every
// connection, and returns once the server's goroutines have ended. It returns
// the error, if any, that stopped the server from serving. Calling it again
// returns the same error.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.Handler.Close()
		// The handler ends its streams at once, so the connections go idle
		// promptly and Shutdown closes them; Close is the backstop for a
		// client that never reads.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		<-s.done
	})
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}
