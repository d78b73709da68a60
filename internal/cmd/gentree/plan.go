package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// The owners: the deploy user that uploads the sites (and owns all of them in the deploy
// variant), and the web server's user (Debian's www-data).
const (
	deployID = 1000
	webID    = 33
)

type kind uint8

const (
	dirKind kind = iota
	fileKind
	linkKind
)

// A node is one entry of the planned tree. Nodes are planned parents first, so a directory's
// index is always below its children's.
type node struct {
	name   string
	target string // a link's target
	data   string // a file's contents; most files are empty
	parent int32  // -1 for the root
	uid    uint32
	gid    uint32
	mode   uint16 // permission bits; directories always keep the owner's rwx
	kind   kind
}

// A variant is who owns the tree and how open it is.
type variant string

const (
	// deploy is a host's web roots as a deploy user (uid 1000) keeps them: a few permission
	// faults, sensitive names and links: few findings.
	deploy variant = "deploy"
	// wwwData is the same tree after `chown -R www-data:www-data`: the web server owns its code.
	wwwData variant = "www-data"
	// open is the same tree with every entry world-writable: a finding per entry.
	open variant = "open"
)

func parseVariant(s string) (variant, error) {
	switch v := variant(s); v {
	case deploy, wwwData, open:
		return v, nil
	}
	return "", fmt.Errorf("unknown variant %q: give deploy, www-data or open", s)
}

// planner lays out a tree of exactly limit entries below its root from one seeded generator, so
// a seed gives the same tree on every machine and every run.
type planner struct {
	rng      *rand.Rand
	nodes    []node
	limit    int
	uid, gid uint32 // the owner of what is added now
}

// plan returns the nodes of the tree of n entries below its root (nodes[0]) that seed gives.
func plan(seed uint64, n int, v variant) []node {
	p := &planner{
		rng:   rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		nodes: make([]node, 0, n+1),
		limit: n,
		uid:   deployID,
		gid:   deployID,
	}
	p.nodes = append(p.nodes, node{kind: dirKind, mode: 0o755, parent: -1, uid: deployID, gid: deployID})
	for i := 1; !p.full(); i++ {
		p.site(0, i)
	}
	switch v {
	case wwwData:
		for i := range p.nodes {
			p.nodes[i].uid, p.nodes[i].gid = webID, webID
		}
	case open:
		for i := range p.nodes {
			switch p.nodes[i].kind {
			case dirKind:
				p.nodes[i].mode = 0o777
			case fileKind:
				p.nodes[i].mode |= 0o666
			}
		}
	}
	return p.nodes
}

func (p *planner) full() bool { return len(p.nodes)-1 >= p.limit }

// add plans one entry below parent and returns its index, or -1 when the tree is full or the
// parent was never planned (so a subtree cut short stops quietly).
func (p *planner) add(parent int32, k kind, name string, mode uint16) int32 {
	if parent < 0 || p.full() {
		return -1
	}
	p.nodes = append(p.nodes, node{name: name, parent: parent, kind: k, mode: mode, uid: p.uid, gid: p.gid})
	return int32(len(p.nodes) - 1)
}

// dir plans a directory, now and then with the group or the world let write to it: the faults
// a deploy leaves behind.
func (p *planner) dir(parent int32, name string) int32 {
	mode := uint16(0o755)
	switch r := p.rng.IntN(4000); {
	case r < 2:
		mode = 0o777
	case r < 7:
		mode = 0o775
	}
	return p.add(parent, dirKind, name, mode)
}

// file plans an empty file, now and then group- or world-writable.
func (p *planner) file(parent int32, name string) int32 {
	mode := uint16(0o644)
	switch r := p.rng.IntN(20000); {
	case r < 1:
		mode = 0o777
	case r < 3:
		mode = 0o666
	case r < 10:
		mode = 0o664
	}
	return p.add(parent, fileKind, name, mode)
}

// content plans a file holding data, with an exact mode.
func (p *planner) content(parent int32, name string, mode uint16, data string) int32 {
	i := p.add(parent, fileKind, name, mode)
	if i >= 0 {
		p.nodes[i].data = data
	}
	return i
}

func (p *planner) link(parent int32, name, target string) int32 {
	i := p.add(parent, linkKind, name, 0o777)
	if i >= 0 {
		p.nodes[i].target = target
	}
	return i
}

// chance is true with probability 1/n.
func (p *planner) chance(n int) bool { return p.rng.IntN(n) == 0 }

// between returns an integer in [lo, hi], skewed towards lo as sizes of real things are.
func (p *planner) between(lo, hi int) int {
	f := p.rng.Float64()
	return lo + int(f*f*float64(hi-lo+1))
}

// Words for generated names: none is a name the site layout uses itself (plugins, uploads,
// vendor, …), so a generated name never meets a fixed one in a directory.
var words = []string{
	"admin", "ajax", "api", "assets", "block", "blocks", "build", "class", "common", "components",
	"config-ui", "core", "css", "dist", "editor", "fields", "fonts", "form", "frontend", "helpers",
	"images", "img", "inc", "integrations", "js", "lib", "media", "modules", "parts", "partials",
	"public", "rest", "sass", "settings", "shortcodes", "src", "templates", "utils", "views", "widgets",
}

var (
	codeExts  = []string{".php", ".php", ".php", ".php", ".js", ".js", ".css", ".png", ".svg", ".json", ".txt", ".gif", ".woff2", ".map"}
	themeExts = []string{".php", ".php", ".css", ".css", ".js", ".png", ".jpg", ".svg", ".woff", ".woff2", ".json"}
	cacheExts = []string{".html", ".html", ".html.gz", ".css", ".js"}
)

// fill plans budget entries below dir: a few files in each directory and a few subdirectories
// each taking an uneven share of what is left, down to maxDepth, where the rest are files.
func (p *planner) fill(dir int32, budget, depth, maxDepth int, exts []string) {
	if dir < 0 || budget <= 0 {
		return
	}
	files := budget
	if depth < maxDepth && budget > 3 {
		files = min(budget, 1+p.rng.IntN(14))
	}
	for i := range files {
		name := words[p.rng.IntN(len(words))] + "-" + strconv.Itoa(i) + exts[p.rng.IntN(len(exts))]
		if i > 0 && p.chance(200) {
			// A build's alias of a sibling, as style.min.css -> style.css.
			p.link(dir, name, p.nodes[len(p.nodes)-1].name)
			continue
		}
		p.file(dir, name)
	}
	rest := budget - files
	dirs := 0
	if rest > 0 {
		dirs = min(rest, 1+p.rng.IntN(6))
	}
	for j := range dirs {
		share := rest
		if j < dirs-1 {
			share = min(rest-(dirs-1-j), 1+p.rng.IntN(2*rest/(dirs-j)+1))
		}
		name := words[p.rng.IntN(len(words))]
		if j > 0 {
			name += "-" + strconv.Itoa(j)
		}
		p.fill(p.dir(dir, name), share-1, depth+1, maxDepth, exts)
		rest -= share
	}
}

var pluginWords = []string{
	"seo", "cache", "forms", "gallery", "backup", "security", "shop", "slider", "analytics",
	"mailer", "builder", "redirect", "sitemap", "social", "events", "members", "translate", "cookie",
}

// site plans one WordPress site as a hosting panel lays it out: the document root
// (public_html) beside the site's logs and private files.
func (p *planner) site(root int32, n int) {
	site := p.dir(root, fmt.Sprintf("site%04d.example", n))
	logs := p.dir(site, "logs")
	p.content(logs, "access.log", 0o640, "203.0.113.9 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 512\n")
	p.content(logs, "error.log", 0o640, "")
	if p.chance(8) {
		ssh := p.dir(site, ".ssh")
		p.content(ssh, "id_rsa", 0o600, "-----BEGIN OPENSSH PRIVATE KEY-----\n")
		p.content(ssh, "authorized_keys", 0o600, "ssh-ed25519 AAAA deploy@ci\n")
	}
	web := p.dir(site, "public_html")
	p.content(web, ".htaccess", 0o644, "# BEGIN WordPress\nRewriteEngine On\nRewriteRule ^index\\.php$ - [L]\n# END WordPress\n")
	p.content(web, "wp-config.php", 0o640, "<?php\ndefine( 'DB_NAME', 'wp' );\ndefine( 'DB_PASSWORD', 'hunter2' );\n")
	for _, f := range []string{"index.php", "wp-activate.php", "wp-blog-header.php", "wp-comments-post.php",
		"wp-cron.php", "wp-links-opml.php", "wp-load.php", "wp-login.php", "wp-mail.php", "wp-settings.php",
		"wp-signup.php", "wp-trackback.php", "xmlrpc.php", "license.txt", "readme.html", "robots.txt", "favicon.ico"} {
		p.file(web, f)
	}
	// What a careless deploy leaves in a document root.
	if p.chance(3) {
		p.content(web, ".env", 0o644, "DB_PASSWORD=hunter2\n")
	}
	if p.chance(4) {
		p.content(web, "wp-config.php.bak", 0o644, "<?php\ndefine( 'DB_PASSWORD', 'hunter2' );\n")
	}
	if p.chance(5) {
		p.content(web, "backup.sql", 0o644, "-- MySQL dump\nINSERT INTO `wp_users` VALUES (1,'admin','$P$B');\n")
	}
	if p.chance(6) {
		p.content(web, "phpinfo.php", 0o644, "<?php phpinfo();\n")
	}
	if p.chance(6) {
		p.content(web, ".htpasswd", 0o644, "admin:$apr1$x$y\n")
	}
	if p.chance(4) {
		git := p.dir(web, ".git")
		p.content(git, "HEAD", 0o644, "ref: refs/heads/main\n")
		p.content(git, "config", 0o644, "[core]\n\trepositoryformatversion = 0\n")
		p.file(git, "index")
		refs := p.dir(p.dir(git, "refs"), "heads")
		p.content(refs, "main", 0o644, "0123456789abcdef0123456789abcdef01234567\n")
		objects := p.dir(git, "objects")
		for i := range p.between(4, 60) {
			obj := p.dir(objects, fmt.Sprintf("%02x", i))
			for j := range p.between(1, 12) {
				p.add(obj, fileKind, fmt.Sprintf("%038x", j), 0o444)
			}
		}
	}

	p.fill(p.dir(web, "wp-admin"), p.between(300, 900), 0, 3, codeExts)
	p.fill(p.dir(web, "wp-includes"), p.between(600, 1800), 0, 4, codeExts)

	content := p.dir(web, "wp-content")
	p.file(content, "index.php")
	if p.chance(3) {
		p.content(content, "debug.log", 0o644, "PHP Notice: Undefined index: id in /var/www/wp-content/plugins/x.php on line 1\n")
	}
	plugins := p.dir(content, "plugins")
	p.file(plugins, "index.php")
	for i := range p.between(3, 40) {
		name := pluginWords[p.rng.IntN(len(pluginWords))] + "-" + strconv.Itoa(i)
		plugin := p.dir(plugins, name)
		p.file(plugin, name+".php")
		p.file(plugin, "readme.txt")
		if p.chance(3) {
			// A composer or npm tree: deep and narrow.
			p.fill(p.dir(plugin, "vendor"), p.between(50, 1500), 0, p.between(5, 10), codeExts)
		}
		p.fill(plugin, p.between(10, 1200), 0, p.between(2, 6), codeExts)
		if p.chance(10) {
			p.link(plugin, "shared", "../../../../shared/lib")
		}
	}
	themes := p.dir(content, "themes")
	for i := range p.between(1, 4) {
		p.fill(p.dir(themes, "theme-"+strconv.Itoa(i)), p.between(40, 800), 0, 3, themeExts)
	}
	p.dir(content, "languages")

	uploads := p.dir(content, "uploads")
	first := 2026 - p.between(0, 12)
	for year := first; year <= 2026; year++ {
		y := p.dir(uploads, strconv.Itoa(year))
		for month := 1; month <= 12; month++ {
			m := p.dir(y, fmt.Sprintf("%02d", month))
			for i := range p.between(0, 60) {
				base := fmt.Sprintf("img-%d", i)
				p.file(m, base+".jpg")
				for _, size := range []string{"-150x150", "-300x200", "-1024x683"} {
					p.file(m, base+size+".jpg")
				}
			}
		}
	}
	if p.chance(5) {
		p.content(uploads, "shell.php.jpg", 0o644, "<?php system($_GET['c']);\n")
	}
	if p.chance(3) {
		p.fill(p.dir(content, "cache"), p.between(50, 3000), 0, 3, cacheExts)
	}
	p.link(uploads, "latest", "2026/01")
	if p.chance(4) {
		p.link(web, "wp-config-sample.php", "wp-config.php")
	}
}
