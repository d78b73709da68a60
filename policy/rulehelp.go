package policy

// ruleHelp is what a report that describes each rule on its own says of it, beyond the
// catalog's summary: a title of a few words, and what to do about a finding. SARIF's rule
// descriptors carry them (shortDescription and help), and code scanning shows them beside each
// alert.
var ruleHelp = map[RuleID]struct{ title, help string }{
	WorldWritable: {"World-writable entry",
		"Any local user, and any process on the host, may change or replace this entry, or add files to this directory. Remove the write bit for others (chmod o-w PATH); give a directory the web server must write to the web server's user or group instead. webperm plan prints the chmod."},
	ModeTooOpen: {"Permissions wider than the policy allows",
		"The entry has permission bits beyond the policy's maximum for its path. Remove the extra bits (the finding's fix gives the mode, webperm plan the chmod), or, where the wider mode is intended, raise the maximum for that path in the policy file."},
	SetuidSetgid: {"Setuid, setgid or file capabilities in the web root",
		"A program in a web root that runs with another user's rights, or with capabilities, is a privilege escalation waiting for an upload. Clear the bits (chmod u-s,g-s PATH) and capabilities (setcap -r PATH), or move the program out of the web root. A setgid directory is reported only where the policy forbids it."},
	SensitiveExposed: {"Sensitive file readable by others or by the web server",
		"Secrets (configurations, keys, dumps, backups, version control) must be closed to other users and to the web server, which would hand them out as text. Close the mode (0640 for files, 0750 for directories: webperm plan prints the chmod), move the file out of the web root, or delete what is not needed (backups, dumps, .git). If the web server or PHP must read it, say so in the policy."},
	WebWritableCode: {"Code the web server can modify",
		"The web server or PHP user can change code it runs: a flaw in the application then becomes a persistent backdoor. Give the code to the site's owner (chown) and remove group and other write (webperm plan prints both); keep only the policy's writable paths (uploads, caches) writable by the web server."},
	ScriptInWritable: {"Script in a directory the web server can write",
		"A script in a directory the web server or PHP user can write can be replaced or joined by an uploaded one, which the server would then run. Move scripts out of writable directories, or make the directory unwritable to the web server, and have the server refuse to run scripts there (php_flag engine off, or the location's configuration)."},
	WebUnreadable: {"File the web server must serve but cannot read (403)",
		"The web server's user cannot read this file, so visitors get 403 Forbidden (or PHP fails). Make it readable by the web server's user or group, for example chmod 0644 PATH, or chgrp to the web server's group with 0640; webperm plan prints the change, and webperm explain PATH shows why access is denied."},
	WebUntraversable: {"Directory the web server cannot enter (403 for everything below)",
		"The web server's user cannot search (x) this directory, in the root or above it, so everything below answers 403. Add search for the web server's user, group or others (chmod o+x DIR or g+x with its group); webperm explain PATH shows the blocking component."},
	HtaccessUnreadable: {"Unreadable .htaccess (Apache answers 403)",
		"Apache answers 403 for a directory whose .htaccess it cannot read as a file, and for everything below it. Make the .htaccess a regular file the web server's user can read (chmod 0644), or remove it if it is not needed."},
	WebUnwritable: {"Path the web server must write but cannot",
		"The policy says the web server or PHP writes here (uploads, caches), but it cannot: uploads and caching fail. Give the directory to the web server's group with group write (chgrp, chmod g+w), or correct the policy's writable paths."},
	OwnerMismatch: {"Owner differs from the policy",
		"The entry's owner is not the one the policy expects for the path (by default the site's owner). Change the owner back (chown; webperm plan prints it), or set the expected owner in the policy."},
	GroupMismatch: {"Group differs from the policy",
		"The entry's group is not the one the policy expects for the path (by default the site owner's primary group or the web server's). Change the group (chgrp; webperm plan prints it), or set the expected group in the policy."},
	SpecialFile: {"Device, FIFO or socket in the web root",
		"A device node, named pipe or socket has no place among files a web server serves. Remove it, or move it out of the web root."},
	SymlinkEscapesRoot: {"Symlink leading out of the web root",
		"The link leads outside the audited root, so the web server may serve files from elsewhere on the host if it follows links. Remove the link or point it inside the root; if the target is meant to be served, audit it too."},
	DanglingSymlink: {"Dangling symlink",
		"The link's target does not exist (or the link loops). Remove the link or restore its target; an attacker who can create the target decides what it serves."},
	ACLExtendsAccess: {"POSIX ACL grants more than the mode shows",
		"A POSIX ACL gives someone access that ls -l does not show. Review it with getfacl PATH; remove entries that are not needed (setfacl -x ENTRY PATH, or setfacl -b PATH for all)."},
	SELinuxLabel: {"SELinux type httpd may not read",
		"On an SELinux system httpd cannot read content without an httpd type, whatever the mode says. Restore the default labels (restorecon -Rv PATH), or set the type the content needs (semanage fcontext, then restorecon)."},
	MissingIndex: {"Web root without an index file",
		"The web root has no index file, so / answers 403 where directory listings are off. Add an index file, or ignore this where the root serves no page at /."},
	UnknownOwner: {"Owner or group with no name on the system",
		"The uid or gid has no entry in the system's passwd or group file, often left by an archive unpacked as root or by a deleted account; a new account given that id would own the files. Give the entry to the site's owner (chown)."},
	WebUserOwns: {"Content owned by the web server's user",
		"The web server's user owns content outside the policy's writable paths, so it can change its mode and content: a flaw in the application can rewrite the site. Give it to the site's owner (chown; webperm plan prints it) and keep only uploads and caches the web server's."},
	WebUserOwnsTree: {"Whole site owned by the web server's user",
		"The web server's user owns the root and the tree, as chown -R www-data leaves it: any flaw in the application can rewrite the whole site. Give the tree back to the site's owner (webperm plan prints a chown per entry) and leave only the writable paths (uploads, caches) to the web server."},
}

// Title is a few words that name the rule, for a report that lists rules on their own.
func (r RuleInfo) Title() string { return ruleHelp[r.ID].title }

// Help says what a finding of the rule means and what to do about it.
func (r RuleInfo) Help() string { return ruleHelp[r.ID].help }
