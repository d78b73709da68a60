package fixer

import (
	"encoding/base64"
	"fmt"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/policy"
)

// The JSON forms plans and journals share.

// jsonState is a State in JSON: the mode as four octal digits, the ids, and their names where the
// audited system has them (for people; apply and undo go by the ids).
type jsonState struct {
	Mode  string `json:"mode"`
	UID   uint32 `json:"uid"`
	GID   uint32 `json:"gid"`
	Owner string `json:"owner,omitempty"`
	Group string `json:"group,omitempty"`
}

func newJSONState(s State, acc *access.Accounts) jsonState {
	js := jsonState{Mode: policy.OctalMode(s.Mode), UID: s.UID, GID: s.GID}
	if acc != nil {
		js.Owner, _ = acc.UserName(s.UID)
		js.Group, _ = acc.GroupName(s.GID)
	}
	return js
}

// state reads js back; what is wrong is described without the field's name, which the caller adds.
func (js jsonState) state() (State, error) {
	m, err := policy.ParseOctalMode(js.Mode)
	if err != nil {
		return State{}, err
	}
	if len(js.Mode) != 4 {
		return State{}, fmt.Errorf("mode %q: want four octal digits, such as \"0644\"", js.Mode)
	}
	return State{Mode: m, UID: js.UID, GID: js.GID}, nil
}

// encodePath returns p for a JSON "path" field and, where p is not valid UTF-8, its bytes in
// base64 for "path_base64".
func encodePath(p string) (text, b64 string) { return p, report.RawBytes(p) }

// decodePath reads a path written by encodePath: the base64 form, where there is one, is exact.
func decodePath(text, b64 string) (string, error) {
	if b64 == "" {
		return text, nil
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("path_base64: %w", err)
	}
	return string(b), nil
}
