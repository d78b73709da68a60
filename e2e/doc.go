// Package e2e tests webperm against real web servers. It builds a docroot whose modes, owners,
// groups and ACLs cover each way a file can be refused, audits it with the webperm binary, then
// asks a real nginx and a real Apache, both running as www-data, for every file in it and checks
// that they answer 403 exactly where webperm's findings say they will.
//
// The test needs root, nginx, apache2, setfacl and groupadd; without them it skips, unless
// WEBPERM_E2E_REQUIRED=1 (set by CI), which turns the skip into a failure.
package e2e
