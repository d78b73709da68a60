<?php
require_once('/etc/wordpress/config-default.php');
define('DB_PASSWORD', 'hunter2');
