package podman

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/errorhandling"
)

// hijackAPI is the API version in hijacked requests' paths. Podman ≥ 4.7
// changes the stream's content type for newer versions; the framing is the
// same.
const hijackAPI = "/v4.0.0/libpod"

// attachStream POSTs to a hijacking endpoint (container attach, exec start)
// on a connection of its own, runs then (if set) once the service has
// answered, and copies the stream to s until it ends. The bindings' own
// attach functions are not used: they swap the shared client's transport
// (racy with concurrent calls) and put the caller's terminal in raw mode.
func (e *Engine) attachStream(ctx context.Context, pathQuery, body string, tty bool, s engine.Streams, then func() error) error {
	client, err := bindings.GetClient(e.conn)
	if err != nil {
		return err
	}
	conn, err := client.GetDialer(ctx)
	if err != nil {
		return fmt.Errorf("dialing %s: %w", e.endpoint, err)
	}
	defer conn.Close()
	// Closing the connection is what unblocks reads when ctx ends.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
			conn.Close()
		case <-stop:
		}
	}()

	req, err := http.NewRequest(http.MethodPost, "http://d"+hijackAPI+pathQuery, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	if err := req.Write(conn); err != nil {
		return fmt.Errorf("sending request: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fmt.Errorf("reading response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		model := &errorhandling.ErrorModel{ResponseCode: resp.StatusCode}
		if json.Unmarshal(data, model) != nil || model.Message == "" {
			model.Message = fmt.Sprintf("status %d: %s", resp.StatusCode, bytes.TrimSpace(data))
		}
		return model
	}
	if then != nil {
		if err := then(); err != nil {
			return err
		}
	}
	if s.Stdin != nil {
		go func() {
			_, _ = io.Copy(conn, s.Stdin)
			if cw, ok := conn.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			}
		}()
	}
	if tty {
		w := s.Stdout
		if w == nil {
			w = io.Discard
		}
		_, err = io.Copy(w, br)
	} else {
		err = demux(br, s.Stdout, s.Stderr)
	}
	if err != nil && (errors.Is(err, net.ErrClosed) || ctx.Err() != nil) {
		return ctx.Err()
	}
	return err
}

// demux copies Docker's multiplexed stream (8-byte headers: stream, 0, 0,
// 0, big-endian length) to stdout and stderr (nil discards) until EOF.
func demux(r io.Reader, stdout, stderr io.Writer) error {
	var hdr [8]byte
	buf := make([]byte, 32*1024)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[4:]))
		if n > len(buf) {
			buf = make([]byte, n)
		}
		frame := buf[:n]
		if _, err := io.ReadFull(r, frame); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		var w io.Writer
		switch hdr[0] {
		case 0, 1:
			w = stdout
		case 2:
			w = stderr
		case 3:
			return fmt.Errorf("from the service: %s", bytes.TrimSpace(frame))
		default:
			return fmt.Errorf("unknown stream %d in multiplexed output", hdr[0])
		}
		if w != nil {
			if _, err := w.Write(frame); err != nil {
				return err
			}
		}
	}
}

// lineWriter passes whole lines to w, keeping a partial last line until
// the next write or Flush. A nil w discards.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	// stamped: each write (a log frame) starts with "TIMESTAMP "; the
	// continuation of a partial line loses its timestamp, so that the
	// joined line carries one, at its start.
	stamped bool
}

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{w: w} }

func (l *lineWriter) Write(p []byte) (int, error) {
	if l.w == nil {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if l.stamped && len(l.buf) > 0 {
		if stamp, rest, ok := bytes.Cut(p, []byte(" ")); ok && isTimestamp(stamp) {
			p = rest
		}
	}
	l.buf = append(l.buf, p...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		if _, err := l.w.Write(l.buf[:i+1]); err != nil {
			return 0, err
		}
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	return n, nil
}

// isTimestamp reports whether b is an RFC 3339 time, as Podman stamps
// log lines.
func isTimestamp(b []byte) bool {
	_, err := time.Parse(time.RFC3339Nano, string(b))
	return err == nil
}

// Flush writes a pending partial line.
func (l *lineWriter) Flush() {
	if l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		_, _ = l.w.Write(l.buf)
		l.buf = l.buf[:0]
	}
}
