<?php
/** The name of the database for WordPress */
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wordpress' );
define( 'DB_PASSWORD', 'correct horse battery staple' );
$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
