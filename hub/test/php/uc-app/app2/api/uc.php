<?php
// A second application on the same PHP server, with its own UC_KEY (APP2_KEY).
define('NOTE_KEY', (string) getenv('APP2_KEY'));
define('NOTE_APP', 'app2');
require __DIR__ . '/../../api/uc.php';
