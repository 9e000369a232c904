package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestTableDisplay: columns stay aligned with wide (CJK, emoji) and
// combining characters, and control characters in stored text reach the
// terminal as harmless placeholders.
func TestTableDisplay(t *testing.T) {
	tb := &table{}
	tb.add(cell{text: "ab12"}, cell{text: "日本/東京"}, cell{text: "one"})
	tb.add(cell{text: "cd34"}, cell{text: "Home/Repairs"}, cell{text: "two"})
	tb.add(cell{text: "ef56"}, cell{text: "🎉 party"}, cell{text: "three"})
	tb.add(cell{text: "gh78"}, cell{text: "cafe\u0301"}, cell{text: "four"})
	tb.add(cell{text: "ij90"}, cell{text: "x\ty"}, cell{text: "clear\x1b[2J\u202e"})
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\t\u202e") {
		t.Errorf("control characters reached the output: %q", out)
	}
	col := -1
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		fields := strings.Fields(line)
		last := fields[len(fields)-1]
		// The column where the last cell starts, in terminal columns.
		c := displayWidth(line[:strings.LastIndex(line, last)])
		if col == -1 {
			col = c
		} else if c != col {
			t.Errorf("last column at %d, want %d:\n%s", c, col, out)
		}
	}
	for i := 1; i < len(wideRanges); i++ {
		if wideRanges[i][0] <= wideRanges[i-1][1] {
			t.Fatalf("wideRanges out of order at %d: %x", i, wideRanges[i])
		}
	}
}

// TestFarDatesPrintedOnce: a date far enough to be shown as a date is not
// repeated in parentheses, and done on a series that has only a late date
// says when it is next late.
func TestFarDatesPrintedOnce(t *testing.T) {
	td := startDaemon(t)
	y := strings.TrimSpace(td.MustHeph("task", "Renew passport", "--recur", "yearly", "--do", "2031-06-01"))
	if out := td.MustHeph("show", y); !strings.Contains(out, "do         2031-06-01\n") {
		t.Errorf("show:\n%s", out)
	}
	if out := td.MustHeph("done", y); out != "done "+y+"  Renew passport; next 2032-06-01\n" {
		t.Errorf("done: %q", out)
	}
	w := strings.TrimSpace(td.MustHeph("task", "Bins out", "--recur", "weekly", "--late", "+2d"))
	td.MustHeph("edit", w, "--do", "none")
	want := "; next late in 9d (" + time.Now().AddDate(0, 0, 9).Format("2006-01-02") + ")\n"
	if out := td.MustHeph("done", w); !strings.HasSuffix(out, want) {
		t.Errorf("done without a do date: %q, want it to end %q", out, want)
	}
}
