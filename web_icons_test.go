// web_icons_test.go draws the web app's icons (web/icon-*.png) and checks the committed PNGs match; HEPH_WRITE_ICONS=1 rewrites them.
package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// drawIcon draws heph's icon: a check mark in a ring on the theme colour.
// A maskable icon fills the whole square and keeps its mark inside the
// central 80 % safe zone; the plain one is a rounded square.
func drawIcon(size int, maskable bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	bg := color.NRGBA{0x1d, 0x4e, 0x89, 0xff}
	fg := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	s := float64(size)
	radius := s * 0.18
	scale := 1.0
	if maskable {
		radius, scale = 0, 0.7
	}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			if !insideRounded(px, py, s, radius) {
				continue
			}
			img.SetNRGBA(x, y, bg)
			// Coordinates relative to the centre, in units of the mark's box.
			u, v := (px-s/2)/(s*scale/2), (py-s/2)/(s*scale/2)
			r := math.Hypot(u, v)
			if (r > 0.78 && r < 0.9) || onCheck(u, v) {
				img.SetNRGBA(x, y, fg)
			}
		}
	}
	return img
}

func insideRounded(x, y, s, r float64) bool {
	cx, cy := math.Max(r, math.Min(s-r, x)), math.Max(r, math.Min(s-r, y))
	return math.Hypot(x-cx, y-cy) <= r
}

// onCheck: two thick strokes of a check mark.
func onCheck(u, v float64) bool {
	return segDist(u, v, -0.42, 0.02, -0.12, 0.32) < 0.09 || segDist(u, v, -0.12, 0.32, 0.45, -0.3) < 0.09
}

func segDist(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/(dx*dx+dy*dy)))
	return math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
}

func TestWebIconsUpToDate(t *testing.T) {
	for _, ic := range []struct {
		name     string
		size     int
		maskable bool
	}{{"icon-192.png", 192, false}, {"icon-512.png", 512, false}, {"icon-maskable-512.png", 512, true}} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, drawIcon(ic.size, ic.maskable)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("web", ic.name)
		if os.Getenv("HEPH_WRITE_ICONS") == "1" {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		have, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(have, buf.Bytes()) {
			t.Errorf("%s differs from what drawIcon draws (err %v): run HEPH_WRITE_ICONS=1 go test -run TestWebIconsUpToDate", path, err)
			continue
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(have))
		if err != nil || cfg.Width != ic.size || cfg.Height != ic.size {
			t.Errorf("%s: %dx%d (%v), want %d square", path, cfg.Width, cfg.Height, err, ic.size)
		}
	}
}
