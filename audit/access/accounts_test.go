package access

import (
	"slices"
	"strings"
	"testing"
)

const passwdSample = `# comment
root:x:0:0:root:/root:/bin/bash
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin

deploy:x:1000:1000:Deploy,,,:/home/deploy:/bin/bash
+nisuser::::::
toor:x:0:0:second root:/root:/bin/sh
`

const groupSample = `root:x:0:
www-data:x:33:
deploy:x:1000:
webdev:x:2000:www-data,deploy
ssl-cert:x:110: www-data , postgres
`

func TestParseAccounts(t *testing.T) {
	users, err := ParsePasswd(strings.NewReader(passwdSample), "passwd")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := ParseGroup(strings.NewReader(groupSample), "group")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAccounts(users, groups)
	if n, _ := a.UserName(0); n != "root" {
		t.Errorf("uid 0 is %q; the first line must win, as getpwuid does", n)
	}
	if _, ok := a.UserName(4242); ok {
		t.Error("uid 4242 has a name")
	}
	if n, _ := a.GroupName(2000); n != "webdev" {
		t.Errorf("gid 2000 is %q", n)
	}
	if u, ok := a.LookupUser("33"); !ok || u.Name != "www-data" {
		t.Errorf("LookupUser(33) = %v, %v", u, ok)
	}
	if u, ok := a.LookupUser("deploy"); !ok || u.UID != 1000 {
		t.Errorf("LookupUser(deploy) = %v, %v", u, ok)
	}
	if _, ok := a.LookupUser("nisuser"); ok {
		t.Error("a NIS compat line became a user")
	}
	if g, ok := a.LookupGroup("110"); !ok || g.Name != "ssl-cert" {
		t.Errorf("LookupGroup(110) = %v, %v", g, ok)
	}
	if got := a.GroupsOf("www-data", 33); !slices.Equal(got, []uint32{33, 2000, 110}) {
		t.Errorf("GroupsOf(www-data) = %v, want primary then supplementary [33 2000 110]", got)
	}
}

func TestParseAccountErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
		group             bool
	}{
		{"too few fields", "root:x:0:0:root:/root:/bin/bash\nbroken:x:1\n", "passwd:2: malformed passwd entry: want 7 colon-separated fields, got 3", false},
		{"bad uid", "a:x:0:0::/:/bin/sh\nb:x:-1:0::/:/bin/sh\n", `passwd:2: malformed passwd entry: bad uid "-1"`, false},
		{"uid too big", "b:x:4294967296:0::/:/bin/sh\n", `passwd:1: malformed passwd entry: bad uid "4294967296"`, false},
		{"bad gid", "b:x:1:g::/:/bin/sh\n", `passwd:1: malformed passwd entry: bad gid "g"`, false},
		{"empty name", ":x:1:1::/:/bin/sh\n", "passwd:1: malformed passwd entry: empty name", false},
		{"group fields", "root:x:0:\nwheel:x:10\n", "group:2: malformed group entry: want 4 colon-separated fields, got 3", true},
		{"group gid", "wheel:x:ten:\n", `group:1: malformed group entry: bad gid "ten"`, true},
		{"line too long", "a:x:1:" + strings.Repeat("m,", maxRecordLine) + "\n", "group:1: bufio.Scanner: token too long", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.group {
				_, err = ParseGroup(strings.NewReader(tt.input), "group")
			} else {
				_, err = ParsePasswd(strings.NewReader(tt.input), "passwd")
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzParsePasswd(f *testing.F) {
	f.Add(passwdSample)
	f.Add("a:x:1:1::/:/bin/sh\n:::::::\n")
	f.Fuzz(func(t *testing.T, s string) {
		users, err := ParsePasswd(strings.NewReader(s), "passwd")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "passwd:") {
				t.Fatalf("error %q does not name the file and line", err)
			}
			return
		}
		a := NewAccounts(users, nil)
		for _, u := range users {
			if u.Name == "" {
				t.Fatal("a user with no name")
			}
			if _, ok := a.UserName(u.UID); !ok {
				t.Fatalf("uid %d parsed but not indexed", u.UID)
			}
		}
	})
}

func FuzzParseGroup(f *testing.F) {
	f.Add(groupSample)
	f.Add("g:x:1:a,,b\n")
	f.Fuzz(func(t *testing.T, s string) {
		groups, err := ParseGroup(strings.NewReader(s), "group")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "group:") {
				t.Fatalf("error %q does not name the file and line", err)
			}
			return
		}
		a := NewAccounts(nil, groups)
		for _, g := range groups {
			for _, m := range g.Members {
				if m == "" || !slices.Contains(a.GroupsOf(m, 0), g.GID) {
					t.Fatalf("member %q of %s lost", m, g.Name)
				}
			}
		}
	})
}
