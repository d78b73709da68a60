<?php
// The secrets live outside the web root.
require_once __DIR__ . '/../private/config.php';
include "/etc/app/db.php";   # and the database
?>
