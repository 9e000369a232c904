// tui.go owns heph tui: the command, the event loop tying keys, live events, signals and reconnects to the state, and drawing frames.

package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func tuiCommand() *command {
	return &command{name: "tui", lasting: true, example: "heph tui --no-mouse", args: "[--no-mouse]", summary: "full-screen terminal client: triage, live (press ? inside for keys)",
		flags: func(fs *flag.FlagSet) {
			fs.Bool("no-mouse", false, "leave the mouse to the terminal (no click or wheel)")
		},
		run: cmdTUI}
}

// tuiApp is a running heph tui.
type tuiApp struct {
	st       *tuiState
	data     *tuiData
	live     *tuiLive
	term     *tuiTerm
	reader   *tuiReader
	w        tuiWriter
	out      io.Writer
	previews map[string]tuiCachedPreview
	// The loader: one background load at a time on its own connection,
	// so keys stay responsive while 10,000 tasks are fetched.
	bg         *tuiData
	loads      chan *tuiSnapshot
	loading    bool
	loadAgain  bool
	selectID   string    // put the cursor on this task when a load shows it
	needLoad   bool      // the first screen is a page: load the rest
	lastCounts time.Time // when the sidebar was last counted the slow way
	quit       bool
	exitCode   int
	lastPoll   time.Time
}

func cmdTUI(c *cli, fs *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	socket, err := resolveSocket(c.socket, osGetenv)
	if err != nil {
		return err
	}
	// Connect-only, and before touching the terminal: no hephd is exit 3
	// with the standard message, on a terminal left as it was.
	rpc, err := dialDaemonWaiting(socket, serviceInstalled(osGetenv), 3*time.Second)
	if err != nil {
		return err
	}
	noMouse := fs.Lookup("no-mouse").Value.String() == "true"
	term, err := openTuiTerm(os.Stdin, os.Stdout, !noMouse)
	if err != nil {
		rpc.Close()
		return err
	}
	a := newTuiApp(socket, rpc, os.Stdout)
	a.term = term
	code, err := a.runTerminal()
	if err == nil && code != 0 {
		return quietError{code}
	}
	return err
}

// newTuiApp builds the app on a connected client, with the colour mode
// the environment asks for.
func newTuiApp(socket string, rpc *rpcClient, out io.Writer) *tuiApp {
	st := &tuiState{Width: 80, Height: 24, Focus: paneList, Now: time.Now(), Loading: true,
		Source: tuiSideItem{Kind: "view", Name: "next", Label: "next"}, Color: tuiColorFromEnv(osGetenv)}
	return &tuiApp{st: st, data: &tuiData{socket: socket, rpc: rpc, missing: map[string]bool{}},
		w: tuiWriter{mode: st.Color}, out: out, previews: map[string]tuiCachedPreview{}, loads: make(chan *tuiSnapshot, 1)}
}

// tuiColorFromEnv: no colour under NO_COLOR (any value) or TERM=dumb,
// 256 colours when TERM or COLORTERM says so, else the 16 ANSI colours.
func tuiColorFromEnv(getenv getenvFunc) tuiColorMode {
	term := getenv("TERM")
	switch {
	case getenv("NO_COLOR") != "" || term == "dumb":
		return colorNone
	case strings.Contains(term, "256color") || getenv("COLORTERM") != "":
		return color256
	}
	return color16
}

// runTerminal owns the terminal from raw mode to restore, whatever happens
// (a panic included), and returns the exit status.
func (a *tuiApp) runTerminal() (code int, err error) {
	if err := a.term.enter(); err != nil {
		a.term.restore()
		return 0, err
	}
	defer func() {
		if r := recover(); r != nil {
			a.term.restore()
			panic(r)
		}
	}()
	defer a.term.restore()
	a.reader = newTuiReader(int(a.term.in.Fd()))
	defer a.reader.close()
	a.st.Width, a.st.Height = a.term.size()
	a.start()
	err = a.loop()
	a.live.close()
	if a.data.rpc != nil {
		a.data.rpc.Close()
	}
	return a.exitCode, err
}

// start loads the first screen: one page, on the event loop's own
// connection. After it is drawn the loop subscribes to events and loads
// the rest in the background (subscribing first, so no change is missed).
func (a *tuiApp) start() {
	a.needLoad = a.check(a.loadNow(true))
}

// loadNow loads and applies a snapshot before returning.
func (a *tuiApp) loadNow(quick bool) error {
	return a.apply(tuiFetchSnapshot(a.data, a.loadReq(quick)))
}

// reload asks the loader for a fresh snapshot of what the screen shows;
// one already running is followed by one more.
func (a *tuiApp) reload() {
	if a.st.Offline {
		return
	}
	if a.loading {
		a.loadAgain = true
		return
	}
	if a.bg == nil || a.bg.rpc == nil {
		rpc, err := dialDaemon(a.data.socket)
		if err != nil {
			a.goOffline()
			return
		}
		a.bg = &tuiData{socket: a.data.socket, rpc: rpc, missing: map[string]bool{}}
	}
	a.loading = true
	bg, req := a.bg, a.loadReq(false)
	go func() { a.loads <- tuiFetchSnapshot(bg, req) }()
}

// loaded applies the loader's snapshot and starts the next load if one
// was asked for meanwhile.
func (a *tuiApp) loaded(snap *tuiSnapshot) {
	a.loading = false
	if errors.Is(snap.Err, errTuiLost) {
		a.bg = nil
		a.goOffline()
		return
	}
	a.check(a.apply(snap))
	if a.loadAgain {
		a.loadAgain = false
		a.reload()
	}
}

// subscribe opens the live connection, or falls back to polling.
func (a *tuiApp) subscribe() {
	l, err := tuiSubscribe(a.data.socket)
	switch {
	case err == nil:
		a.live, a.st.Live = l, "live"
	case errors.Is(err, tuiErrNoEvents):
		a.live, a.st.Live = nil, "polling"
	default:
		a.live = nil
		a.goOffline()
	}
}

// loop runs until quit: one frame per batch of input.
func (a *tuiApp) loop() error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGWINCH, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	defer signal.Stop(sigs)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	reload := time.NewTimer(time.Hour)
	reload.Stop()
	reloadPending := false
	for !a.quit {
		a.draw()
		if a.needLoad { // after the first screen is out: subscribe, then load it all
			a.needLoad = false
			a.subscribe()
			a.reload()
		}
		var events chan tuiEvent
		if a.live != nil {
			events = a.live.Events
		}
		select {
		case keys := <-a.reader.keys:
			for _, k := range keys {
				a.handleKey(k)
			}
		case ev, ok := <-events:
			if !ok {
				a.live = nil
				a.goOffline()
				break
			}
			a.patch(ev)
			if !reloadPending {
				// Coalesce a burst (an import, a sync) into one reload.
				reloadPending = true
				reload.Reset(15 * time.Millisecond)
			}
		case <-reload.C:
			reloadPending = false
			a.reload()
		case snap := <-a.loads:
			a.loaded(snap)
		case sig := <-sigs:
			a.signal(sig)
		case <-tick.C:
			a.idle()
		}
	}
	return nil
}

func (a *tuiApp) signal(sig os.Signal) {
	switch sig {
	case syscall.SIGWINCH:
		a.st.Width, a.st.Height = a.term.size()
		a.st.clamp()
	case syscall.SIGINT:
		a.quit = true
	default: // SIGTERM, SIGHUP: restore the terminal and exit as killed
		a.quit = true
		a.exitCode = 128 + int(sig.(syscall.Signal))
	}
}

// idle reconnects while hephd is away, and polls an hephd without events.
func (a *tuiApp) idle() {
	switch {
	case a.st.Offline:
		a.reconnect()
	case a.st.Live == "polling" && time.Since(a.lastPoll) > 2*time.Second:
		a.lastPoll = time.Now()
		a.reload()
	}
}

// goOffline shows that hephd stopped; idle reconnects.
func (a *tuiApp) goOffline() {
	a.st.Offline = true
	a.live.close()
	a.live = nil
	if a.data.rpc != nil {
		a.data.rpc.Close()
		a.data.rpc = nil
	}
	if a.bg != nil && a.bg.rpc != nil {
		// The loader may be using it: close it, and let the load fail.
		a.bg.rpc.conn.Close()
	}
	a.bg = nil
}

// reconnect tries hephd once; when it answers, everything is reloaded (it
// may be a new version) and the cursor stays on its task.
func (a *tuiApp) reconnect() {
	rpc, err := dialDaemon(a.data.socket)
	if err != nil {
		return
	}
	a.data.rpc, a.data.missing = rpc, map[string]bool{}
	a.st.Version = ""
	a.st.Offline = false
	a.subscribe()
	if !a.st.Offline && a.check(a.loadNow(true)) {
		a.reload()
	}
}

// check shows err: hephd gone goes offline, anything else is a message.
func (a *tuiApp) check(err error) bool {
	if err == nil {
		return true
	}
	if errors.Is(err, errTuiLost) {
		a.goOffline()
		return false
	}
	a.flash(err.Error(), true)
	return false
}

func (a *tuiApp) flash(msg string, isErr bool) {
	a.st.Flash, a.st.FlashEr = strings.ReplaceAll(msg, "\n", " "), isErr
}

// draw renders the state and writes only what changed.
func (a *tuiApp) draw() {
	b := a.w.frame(tuiRender(a.st))
	if len(b) > 0 {
		a.out.Write(b)
	}
}

// redrawAll forgets the screen so the next frame is written whole.
func (a *tuiApp) redrawAll() { a.w.prev = nil }

// suspend hands the terminal to another program (the editor) and takes it
// back afterwards.
func (a *tuiApp) suspend(run func() error) error {
	resume := a.reader.suspend()
	a.term.restore()
	err := run()
	if eerr := a.term.enter(); eerr != nil && err == nil {
		err = eerr
	}
	resume()
	a.redrawAll()
	return err
}
