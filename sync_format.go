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

// syncFormatError is the refusal of a hub and spoke whose formats
// differ; 0 (a peer that sends none) is format 1.
func syncFormatError(hubFormat, spokeFormat int) error {
	if hubFormat == 0 {
		hubFormat = 1
	}
	if spokeFormat == 0 {
		spokeFormat = 1
	}
	older := "spoke"
	if hubFormat < spokeFormat {
		older = "hub"
	}
	return fmt.Errorf("sync format mismatch: the hub speaks sync format %d, the spoke %d: upgrade heph on the %s; nothing was exchanged",
		hubFormat, spokeFormat, older)
}

// checkPullFormat is the hub's check of a pull's ?format=.
func checkPullFormat(w http.ResponseWriter, r *http.Request) bool {
	f, _ := strconv.Atoi(r.URL.Query().Get("format"))
	if f != syncFormat {
		httpError(w, http.StatusConflict, syncFormatError(syncFormat, f).Error())
		return false
	}
	return true
}

// checkPushFormat is the hub's check of a push body's format.
func checkPushFormat(w http.ResponseWriter, f int) bool {
	if f != syncFormat {
		httpError(w, http.StatusConflict, syncFormatError(syncFormat, f).Error())
		return false
	}
	return true
}
