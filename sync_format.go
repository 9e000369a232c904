// sync_format.go owns the sync format version that hub and spokes check on every push and pull.
package main

import (
	"fmt"
	"net/http"
	"strconv"
)

// syncFormat is the version of what sync exchanges: the op types and
// fields a replica must understand to apply another's ops. A hub and a
// spoke that disagree refuse to exchange anything, rather than apply ops
// one of them would misread (a spoke from before projects would store
// project ids as project strings). Bump it when ops gain a meaning an
// older heph would get wrong.
//
//	1 (implicit: no format sent): heph before projects
//	2: projects and views (kinds project and view; fields project_id,
//	   parent, archived, filter, sort)
const syncFormat = 2

// syncFormatError is the refusal of a peer speaking another format.
func syncFormatError(theirs int, peer string) error {
	if theirs == 0 {
		theirs = 1
	}
	upgrade := peer
	if theirs > syncFormat {
		upgrade = "this heph"
	}
	return fmt.Errorf("sync format mismatch: %s speaks sync format %d, this heph speaks %d: upgrade %s so both run the same heph release; nothing was exchanged",
		peer, theirs, syncFormat, upgrade)
}

// checkPullFormat is the hub's check of a pull's ?format=.
func checkPullFormat(w http.ResponseWriter, r *http.Request) bool {
	f, _ := strconv.Atoi(r.URL.Query().Get("format"))
	if f != syncFormat {
		httpError(w, http.StatusConflict, syncFormatError(f, "the spoke").Error())
		return false
	}
	return true
}

// checkPushFormat is the hub's check of a push body's format.
func checkPushFormat(w http.ResponseWriter, f int) bool {
	if f != syncFormat {
		httpError(w, http.StatusConflict, syncFormatError(f, "the spoke").Error())
		return false
	}
	return true
}
