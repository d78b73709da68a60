<?php
$debian_file = '/etc/wordpress/config-' . strtolower($_SERVER['HTTP_HOST']) . '.php';
require_once($debian_file);
