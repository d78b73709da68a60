<?php
/** WordPress's Debianised default master config file
 * Please do NOT edit and learn how the configuration works in
 * /usr/share/doc/wordpress/README.Debian
 */
require_once('/etc/wordpress/config-'.strtolower($_SERVER['HTTP_HOST']).'.php');
