#!/bin/sh
# webperm plan: the chown and chmod that bring these web roots to their policy.
# webperm (devel), 2026-01-01T00:00:00Z
# root: /srv/demo
# web user: www-data (uid 33, gid 33)
# policy: wordpress
# 15 entries to change; 5 left for you to decide (listed at the end)
#
# Review it, then run it as root. It changes paths as they are when it runs: should the tree
# change first, `webperm fix --apply --plan PLAN.json` checks that each entry is still the one
# audited, never follows a symlink, and keeps a journal for `webperm undo`.
set -eu

# in the root /srv/demo
chmod -- 0750 '/srv/demo/.git' # was 0755; fixes sensitive-exposed
chmod -- 0640 '/srv/demo/index.php~' # was 0644; fixes sensitive-exposed
chmod -- 0644 '/srv/demo/wp-admin/admin.php' # was 0664; fixes mode-too-open
chown -h -- '1000:33' '/srv/demo/wp-config.php' # deploy:www-data, was deploy:deploy
chmod -- 0640 '/srv/demo/wp-config.php' # was 0644; fixes sensitive-exposed
chown -h -- '1000:33' '/srv/demo/wp-content/cache' # deploy:www-data, was deploy:deploy
chmod -- 0775 '/srv/demo/wp-content/cache' # was 1777; fixes world-writable
chmod -- 0755 '/srv/demo/wp-content/languages' # was 0750; fixes web-untraversable
chmod -- 0644 '/srv/demo/wp-content/plugins/.htaccess' # was 0600; fixes htaccess-unreadable
chmod -- 0644 '/srv/demo/wp-content/themes/functions.php' # was 0755; fixes mode-too-open
chmod -- 0644 '/srv/demo/wp-content/themes/helper.cgi' # was 4755; fixes mode-too-open, setuid-setgid
chown -h -- '1000:33' '/srv/demo/wp-content/themes/style.css' # deploy:www-data, was www-data:www-data; fixes web-user-owns
chown -h -- '1000:33' '/srv/demo/wp-content/uploads' # deploy:www-data, was deploy:deploy
chmod -- 0775 '/srv/demo/wp-content/uploads' # was 0777; fixes world-writable
chmod -- 0644 '/srv/demo/wp-content/uploads/photo.jpg' # was 0666; fixes world-writable
chmod -- 0755 '/srv/demo/wp-includes' # was 0775; fixes mode-too-open
chmod -- 0644 '/srv/demo/wp-includes/load.php' # was 0664; fixes web-writable-code
chmod -- 0644 '/srv/demo/wp-login.php' # was 0600; fixes web-unreadable

# LEFT FOR YOU TO DECIDE: webperm changes none of these.
# /srv/demo/passwd.txt (symlink)
#   symlink-escapes-root: symlink leads outside the audited root, to /etc/passwd: a server that follows symlinks serves it
#   why: a link out of the root is a choice: remove it, or make sure the server does not follow it
# /srv/demo/wp-content/php-fpm.sock (socket)
#   special-file: a unix socket in a web root: it belongs in /run, away from served content
#   why: a device, pipe or socket has no place in a web root: move or remove it
# /srv/demo/wp-content/themes/current (symlink)
#   dangling-symlink: symlink target twentytwenty does not exist
#   why: remove the link or point it at what it should reach
# /srv/demo/wp-content/uploads/debug.pipe (fifo)
#   special-file: a named pipe in a web root: a request that opens it hangs until something writes to it
#   why: a device, pipe or socket has no place in a web root: move or remove it
# /srv/demo/wp-content/uploads/orphan.php (file)
#   script-in-writable-dir: www-data can write this script's directory: it can replace the script or put another beside it that the server runs
#   unknown-owner: uid 4242 has no entry in ../../testdata/demo/etc/passwd; gid 4242 has no entry in ../../testdata/demo/etc/group: a user created later with that id would own this
#   why: decide whether the script belongs there: remove it, or keep code out of directories the server writes; no account on the system has its uid or gid: decide who should own it
