#!/bin/sh
# webperm plan: the chown and chmod that bring these web roots to their policy.
# webperm (devel), 2026-01-01T00:00:00Z
# root: /srv/demo
# web user: www-data (uid 33, gid 33)
# policy: wordpress
# 15 entries to change; 5 left for you to decide (listed at the end)
#
# Review it, then run it as root: sh THIS-FILE [--journal FILE] [--include-ancestors]
# sh runs none of the chown and chmod below: it hands this file to webperm fix --apply,
# which reads them and the #: line above each, and changes an entry only if it is still the
# inode, mode and owner that line gives, never through a symlink, keeping a journal for
# `webperm undo`. Delete a line, or change a mode or owner, to change the plan; nothing else.
# WEBPERM=/path/to/webperm runs it with another webperm.
#: plan '(devel)' 2026-01-01T00:00:00Z 'wordpress'
#: web-user 'www-data' 33 33 33 'flag' ''
#: root '/srv/demo' 0:0
#: preset '/srv/demo' 'wordpress'
#: sysroot '/testdata/demo'
set -eu
nl=$(printf '\nx'); nl=${nl%x}
webperm=${WEBPERM:-'/usr/local/bin/webperm'}
exec "$webperm" fix --apply --plan "$0" --plan-id 0123456789abcdef0123456789abcdef "$@"
exit 2

#: in '/srv/demo'
#: dir '/srv/demo/.git' 0:0 0755 1000:1000 sensitive-exposed
chmod -- 0750 '/srv/demo/.git' # was 0755; fixes sensitive-exposed
#: file '/srv/demo/index.php~' 0:0 0644 1000:1000 sensitive-exposed
chmod -- 0640 '/srv/demo/index.php~' # was 0644; fixes sensitive-exposed
#: file '/srv/demo/wp-admin/admin.php' 0:0 0664 1000:1000 mode-too-open
chmod -- 0644 '/srv/demo/wp-admin/admin.php' # was 0664; fixes mode-too-open
#: file '/srv/demo/wp-config.php' 0:0 0644 1000:1000 sensitive-exposed
chown -h -- '1000:33' '/srv/demo/wp-config.php' # deploy:www-data, was deploy:deploy
chmod -- 0640 '/srv/demo/wp-config.php' # was 0644; fixes sensitive-exposed
#: dir '/srv/demo/wp-content/cache' 0:0 1777 1000:1000 world-writable
chown -h -- '1000:33' '/srv/demo/wp-content/cache' # deploy:www-data, was deploy:deploy
chmod -- 0775 '/srv/demo/wp-content/cache' # was 1777; fixes world-writable
#: dir '/srv/demo/wp-content/languages' 0:0 0750 1000:1000 web-untraversable
chmod -- 0755 '/srv/demo/wp-content/languages' # was 0750; fixes web-untraversable
#: file '/srv/demo/wp-content/plugins/.htaccess' 0:0 0600 1000:1000 htaccess-unreadable
chmod -- 0644 '/srv/demo/wp-content/plugins/.htaccess' # was 0600; fixes htaccess-unreadable
#: file '/srv/demo/wp-content/themes/functions.php' 0:0 0755 1000:1000 mode-too-open
chmod -- 0644 '/srv/demo/wp-content/themes/functions.php' # was 0755; fixes mode-too-open
#: file '/srv/demo/wp-content/themes/helper.cgi' 0:0 4755 1000:1000 mode-too-open,setuid-setgid
chmod -- 0644 '/srv/demo/wp-content/themes/helper.cgi' # was 4755; fixes mode-too-open, setuid-setgid
#: file '/srv/demo/wp-content/themes/style.css' 0:0 0644 33:33 web-user-owns
chown -h -- '1000:33' '/srv/demo/wp-content/themes/style.css' # deploy:www-data, was www-data:www-data; fixes web-user-owns
#: dir '/srv/demo/wp-content/uploads' 0:0 0777 1000:1000 world-writable
chown -h -- '1000:33' '/srv/demo/wp-content/uploads' # deploy:www-data, was deploy:deploy
chmod -- 0775 '/srv/demo/wp-content/uploads' # was 0777; fixes world-writable
#: file '/srv/demo/wp-content/uploads/photo.jpg' 0:0 0666 1000:1000 world-writable
chmod -- 0644 '/srv/demo/wp-content/uploads/photo.jpg' # was 0666; fixes world-writable
#: dir '/srv/demo/wp-includes' 0:0 0775 1000:1000 mode-too-open
chmod -- 0755 '/srv/demo/wp-includes' # was 0775; fixes mode-too-open
#: file '/srv/demo/wp-includes/load.php' 0:0 0664 1000:33 web-writable-code
chmod -- 0644 '/srv/demo/wp-includes/load.php' # was 0664; fixes web-writable-code
#: file '/srv/demo/wp-login.php' 0:0 0600 1000:1000 web-unreadable
chmod -- 0644 '/srv/demo/wp-login.php' # was 0600; fixes web-unreadable

# LEFT FOR YOU TO DECIDE: webperm changes none of these.
#: manual symlink '/srv/demo/passwd.txt'
#: finding symlink-escapes-root medium 'symlink leads outside the audited root, to /etc/passwd: a server that follows symlinks serves it'
#: why 'a link out of the root is a choice: remove it, or make sure the server does not follow it'
#: manual socket '/srv/demo/wp-content/php-fpm.sock'
#: finding special-file medium 'a unix socket in a web root: it belongs in /run, away from served content'
#: why 'a device, pipe or socket has no place in a web root: move or remove it'
#: manual symlink '/srv/demo/wp-content/themes/current'
#: finding dangling-symlink low 'symlink target twentytwenty does not exist'
#: why 'remove the link or point it at what it should reach'
#: manual fifo '/srv/demo/wp-content/uploads/debug.pipe'
#: finding special-file medium 'a named pipe in a web root: a request that opens it hangs until something writes to it'
#: why 'a device, pipe or socket has no place in a web root: move or remove it'
#: manual file '/srv/demo/wp-content/uploads/orphan.php'
#: finding script-in-writable-dir critical 'www-data can write this script'\''s directory: it can replace the script or put another beside it that the server runs'
#: finding unknown-owner medium 'uid 4242 has no entry in ../../testdata/demo/etc/passwd; gid 4242 has no entry in ../../testdata/demo/etc/group: a user created later with that id would own this'
#: why 'decide whether the script belongs there: remove it, or keep code out of directories the server writes; no account on the system has its uid or gid: decide who should own it'

#: end of plan
