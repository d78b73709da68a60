// Package server reads a host's web server and PHP-FPM configuration, nginx's, Apache's and the
// FPM pools', as the files say it, never by running a server: which sites the host serves, from
// which document roots and aliases, as which users, and which directives decide a request. Every
// path it reads lies below the audited system's root (--root), and every fact it gives names the
// file and line it came from. A configuration it cannot read whole is a warning, never a failure:
// what could be read is still given.
package server

import "fmt"

// Pos is where a directive is: its file, as the audited system names it (below its root), and
// its line, from 1.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Warning is something of the configuration that could not be read or understood: an include
// that cannot be read, a block left open, a directive webperm does not know. The rest is read.
type Warning struct {
	Pos
	Msg string // lower-case, says what and, where it helps, what webperm did instead
}

func (w Warning) String() string { return w.Pos.String() + ": " + w.Msg }

// Server names a web server.
type Server string

// The web servers webperm reads the configuration of.
const (
	Nginx  Server = "nginx"
	Apache Server = "apache"
)

// Site is one virtual host: a server block of nginx's or a VirtualHost of Apache's (or the main
// server, where no virtual host answers).
type Site struct {
	Server Server
	Names  []string // server_name; ServerName then ServerAlias
	Listen []string // as written: "80", "[::]:443 ssl", "*:80"
	// Root is the document root as the audited system names it; "" where none is set.
	Root    string
	Aliases []Alias
	// Index lists the index files in the order they are tried (nginx index, Apache
	// DirectoryIndex); Autoindex says directory listings are on where no index is found.
	Index     []string
	Autoindex bool
	// User and Group are whom the server's workers answer this site's requests as: the server's
	// user (nginx user, Apache User/Group, Debian's ${APACHE_RUN_USER} from envvars), or the
	// site's own under mpm-itk (AssignUserID).
	User, Group string
	// SuexecUser and SuexecGroup are whom Apache's suEXEC runs the site's CGI programs as
	// (SuexecUserGroup); "" where it is not set. Static files are still served as User.
	SuexecUser, SuexecGroup string
	// PHP is how the site runs PHP: the FastCGI address its handler passes to (fastcgi_pass,
	// SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"), or "module" for
	// mod_php, "" for none; Pool is the FPM pool listening there, where one is known.
	PHP  string
	Pool *Pool
	Pos  Pos // where the site begins
}

// Alias maps a URL prefix to a directory outside the document root (nginx alias, Apache Alias).
type Alias struct {
	URL  string
	Path string
	Pos  Pos
}

// Pool is a PHP-FPM pool: whom its workers run as and where they listen.
type Pool struct {
	Name        string
	User, Group string
	// Listen is the socket path or address:port, as the pool file writes it ($pool expanded, a
	// relative socket path made absolute as php-fpm does).
	Listen string
	// ListenOwner, ListenGroup and ListenMode are who may connect to a Unix socket.
	ListenOwner, ListenGroup, ListenMode string
	Pos                                  Pos

	// Version is the PHP version whose php-fpm runs the pool, where the configuration's path says
	// it: "8.2" for /etc/php/8.2/fpm (Debian) and /etc/php82 (Alpine); "" elsewhere.
	Version string
	// ListenACLUsers and ListenACLGroups (listen.acl_users, listen.acl_groups: comma-separated
	// names) are who may connect to the socket where they are set: php-fpm then gives the socket
	// these ACL entries and ignores ListenOwner and ListenGroup.
	ListenACLUsers, ListenACLGroups string
	// Chroot, Chdir and Prefix are the pool's chroot, chdir and prefix as written, $pool expanded;
	// "" where unset. Under a chroot, every path a script names lies below Chroot.
	Chroot, Chdir, Prefix string
	// LimitExtensions (security.limit_extensions) are the extensions of the files the pool runs
	// as scripts: php-fpm's default, .php and .phar, where unset; nil where it is set empty, which
	// lets the pool run any file the web server passes it.
	LimitExtensions []string
}
