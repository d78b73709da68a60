package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// webUser is the account both servers run as and the one webperm audits for.
const webUser = "www-data"

// tools maps each program the test runs to its absolute path.
type tools map[string]string

// requireEnvironment finds what the test needs, skipping (or failing under WEBPERM_E2E_REQUIRED=1)
// when something is missing.
func requireEnvironment(t *testing.T) tools {
	t.Helper()
	if os.Geteuid() != 0 {
		fixture.Unavailable(t, "needs root: chown fixtures and start servers as www-data")
	}
	found := tools{}
	for _, name := range []string{"nginx", "apache2", "setfacl", "groupadd", "gpasswd", "groupdel"} {
		p, err := fixture.FindTool(name)
		if err != nil {
			fixture.Unavailable(t, err.Error())
		}
		found[name] = p
	}
	if _, err := user.Lookup(webUser); err != nil {
		fixture.Unavailable(t, "no "+webUser+" user: "+err.Error())
	}
	return found
}

// joinTestGroup creates a group of the test's own and makes www-data a member of it, so that a
// case can show a file reached only through a supplementary group. The servers, started later,
// pick the membership up when they drop privileges (initgroups).
func joinTestGroup(t *testing.T, tl tools) int {
	t.Helper()
	name := fmt.Sprintf("wpe2e%08d", rand.IntN(100_000_000))
	mustRun(t, tl["groupadd"], name)
	t.Cleanup(func() {
		if out, err := exec.Command(tl["groupdel"], name).CombinedOutput(); err != nil {
			t.Errorf("removing the test's group: groupdel %s: %v: %s", name, err, out)
		}
	})
	mustRun(t, tl["gpasswd"], "-a", webUser, name)
	return lookupGID(t, name)
}

func lookupGID(t *testing.T, name string) int {
	t.Helper()
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		t.Fatalf("group %s: gid %q: %v", name, g.Gid, err)
	}
	return gid
}

func mustRun(t *testing.T, prog string, args ...string) {
	t.Helper()
	if out, err := exec.Command(prog, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(prog), strings.Join(args, " "), err, out)
	}
}

func lookupUID(t *testing.T, name string) int {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		t.Fatalf("user %s: uid %q: %v", name, u.Uid, err)
	}
	return uid
}
