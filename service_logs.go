// heph daemon logs: printing and following hephd's log file.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// logs prints the last n lines of the service's log (all when n <= 0) and,
// with follow, keeps printing what is appended until ctx ends.
func (d *daemonCtl) logs(ctx context.Context, n int, follow bool) error {
	c, _, err := readServiceFile(d.m)
	if err != nil && !errors.Is(err, errNotInstalled) {
		fmt.Fprintf(d.errOut, "heph: warning: %v\n", err)
	}
	path := d.logPath(c)
	if _, err := os.Stat(path); err != nil {
		if !follow {
			return fmt.Errorf("no log at %s yet (is hephd installed? heph daemon start): %w", path, err)
		}
		fmt.Fprintf(d.errOut, "heph: waiting for %s to appear\n", path)
	}
	return tailFile(ctx, path, n, follow, d.out, 200*time.Millisecond)
}

// tailLines returns the last n lines of the file at path ("" if unreadable).
func tailLines(path string, n int) string {
	var b bytes.Buffer
	if err := tailFile(context.Background(), path, n, false, &b, 0); err != nil {
		return ""
	}
	return b.String()
}

// tailFile writes the last n lines of path to w (all when n <= 0). With
// follow it then polls every poll for appended data, reopening the file
// when hephd rotates it (a new file at path) or truncates it, like tail -F.
func tailFile(ctx context.Context, path string, n int, follow bool, w io.Writer, poll time.Duration) error {
	f, err := os.Open(path)
	if err != nil && !(follow && errors.Is(err, os.ErrNotExist)) {
		return fmt.Errorf("open log %s: %w", path, err)
	}
	var offset int64
	if f != nil {
		defer func() { f.Close() }()
		if offset, err = writeLastLines(f, n, w); err != nil {
			return fmt.Errorf("read log %s: %w", path, err)
		}
	}
	if !follow {
		return nil
	}
	buf := make([]byte, 32<<10)
	for {
		if f != nil {
			if offset, err = copyFrom(f, offset, buf, w); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
		f, offset = followSwitch(path, f, offset, buf, w)
	}
}

// copyFrom writes f's bytes from offset to its end to w and returns the
// offset reached; it stops at w's first error.
func copyFrom(f *os.File, offset int64, buf []byte, w io.Writer) (int64, error) {
	for {
		k, err := f.ReadAt(buf, offset)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return offset, werr
			}
			offset += int64(k)
		}
		if err != nil {
			return offset, nil
		}
	}
}

// followSwitch looks at path after a poll: when hephd rotated the log (a
// new file at path) or truncated it, it drains the old file f to w and
// opens the new one, to be read from its start. f is nil while there is
// no file to read.
func followSwitch(path string, f *os.File, offset int64, buf []byte, w io.Writer) (*os.File, int64) {
	cur, err := os.Stat(path)
	if err != nil {
		return f, offset // between rotation's rename and the new file
	}
	var open os.FileInfo
	if f != nil {
		open, _ = f.Stat()
	}
	if f != nil && open != nil && os.SameFile(cur, open) && cur.Size() >= offset {
		return f, offset
	}
	if f != nil {
		// Drain what was written to the old file before the switch.
		copyFrom(f, offset, buf, w)
		f.Close()
	}
	nf, err := os.Open(path)
	if err != nil {
		return nil, offset
	}
	return nf, 0
}

// writeLastLines writes the last n lines of f (all when n <= 0) and returns
// the offset of the file's end.
func writeLastLines(f *os.File, n int, w io.Writer) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	start := int64(0)
	if n > 0 {
		// Read backwards in chunks until n+1 newlines are seen.
		const chunk = 8 << 10
		newlines := 0
		pos := size
		buf := make([]byte, chunk)
	scan:
		for pos > 0 {
			k := int64(chunk)
			if pos < k {
				k = pos
			}
			pos -= k
			if _, err := f.ReadAt(buf[:k], pos); err != nil && !errors.Is(err, io.EOF) {
				return 0, err
			}
			for i := k - 1; i >= 0; i-- {
				if buf[i] == '\n' && pos+i != size-1 {
					newlines++
					if newlines == n {
						start = pos + i + 1
						break scan
					}
				}
			}
		}
	}
	if _, err := io.Copy(w, io.NewSectionReader(f, start, size-start)); err != nil {
		return 0, err
	}
	return size, nil
}
