package walk

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Skip is a directory the walk examined as an entry but did not enter: a mount of a pseudo file
// system (/proc, /sys), of another file system than the root's under --one-file-system, or a
// container runtime's layers.
type Skip struct {
	Path   string
	FsType string // the file system's name as mount(8) shows it; "" where statfs could not say
	Reason string // for a person: why the walk stayed out
}

// Reasons a directory was skipped, as reports show them.
const (
	SkipPseudo    = "pseudo file system"
	SkipOtherFs   = "another file system (--one-file-system)"
	SkipContainer = "container layers"
)

// Magic numbers of include/uapi/linux/magic.h that golang.org/x/sys/unix does not name.
const (
	fusectlMagic   = 0x65735543
	configfsMagic  = 0x62656570
	rpcPipefsMagic = 0x67596969
	mqueueMagic    = 0x19800202
)

// fsKind is what webperm knows of a file system type: its name, and whether it is a pseudo or
// virtual one, whose entries are the kernel's state and no web content: never entered.
type fsKind struct {
	name   string
	pseudo bool
}

// fsKinds names file systems by statfs's f_type. devtmpfs reports tmpfs's number: see
// crossing.
var fsKinds = map[int64]fsKind{
	unix.PROC_SUPER_MAGIC:      {"proc", true},
	unix.SYSFS_MAGIC:           {"sysfs", true},
	unix.DEVPTS_SUPER_MAGIC:    {"devpts", true},
	unix.CGROUP_SUPER_MAGIC:    {"cgroup", true},
	unix.CGROUP2_SUPER_MAGIC:   {"cgroup2", true},
	unix.TRACEFS_MAGIC:         {"tracefs", true},
	unix.DEBUGFS_MAGIC:         {"debugfs", true},
	unix.SECURITYFS_MAGIC:      {"securityfs", true},
	fusectlMagic:               {"fusectl", true},
	configfsMagic:              {"configfs", true},
	unix.PSTOREFS_MAGIC:        {"pstore", true},
	unix.BPF_FS_MAGIC:          {"bpf", true},
	mqueueMagic:                {"mqueue", true},
	unix.HUGETLBFS_MAGIC:       {"hugetlbfs", true},
	unix.AUTOFS_SUPER_MAGIC:    {"autofs", true},
	unix.BINFMTFS_MAGIC:        {"binfmt_misc", true},
	unix.EFIVARFS_MAGIC:        {"efivarfs", true},
	unix.SELINUX_MAGIC:         {"selinuxfs", true},
	unix.SMACK_MAGIC:           {"smackfs", true},
	unix.AAFS_MAGIC:            {"apparmorfs", true},
	unix.NSFS_MAGIC:            {"nsfs", true},
	rpcPipefsMagic:             {"rpc_pipefs", true},
	unix.RDTGROUP_SUPER_MAGIC:  {"resctrl", true},
	unix.BINDERFS_SUPER_MAGIC:  {"binder", true},
	unix.XENFS_SUPER_MAGIC:     {"xenfs", true},
	unix.OPENPROM_SUPER_MAGIC:  {"openpromfs", true},
	unix.USBDEVICE_SUPER_MAGIC: {"usbdevfs", true},
	unix.TMPFS_MAGIC:           {"tmpfs", false},
	unix.RAMFS_MAGIC:           {"ramfs", false},
	unix.OVERLAYFS_SUPER_MAGIC: {"overlay", false},
	unix.EXT4_SUPER_MAGIC:      {"ext4", false}, // ext2 and ext3 too: one number
	unix.XFS_SUPER_MAGIC:       {"xfs", false},
	unix.BTRFS_SUPER_MAGIC:     {"btrfs", false},
	unix.F2FS_SUPER_MAGIC:      {"f2fs", false},
	unix.BCACHEFS_SUPER_MAGIC:  {"bcachefs", false},
	unix.NFS_SUPER_MAGIC:       {"nfs", false},
	unix.SMB2_SUPER_MAGIC:      {"smb3", false},
	unix.CIFS_SUPER_MAGIC:      {"cifs", false},
	unix.FUSE_SUPER_MAGIC:      {"fuse", false},
	unix.SQUASHFS_MAGIC:        {"squashfs", false},
	unix.ISOFS_SUPER_MAGIC:     {"iso9660", false},
	unix.MSDOS_SUPER_MAGIC:     {"vfat", false},
	unix.EXFAT_SUPER_MAGIC:     {"exfat", false},
	unix.V9FS_MAGIC:            {"9p", false},
	unix.CEPH_SUPER_MAGIC:      {"ceph", false},
	unix.ZONEFS_MAGIC:          {"zonefs", false},
}

// fsTypeOf names the file system the directory at path is on, reading it through a descriptor
// that follows no symlink and triggers no automount: O_PATH, without O_DIRECTORY, which would
// have an autofs mount point mounted (a directory lookup), where webperm wants to stay out.
func fsTypeOf(path string) (fsKind, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fsKind{}, err
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fsKind{}, err
	}
	if k, ok := fsKinds[int64(st.Type)]; ok {
		return k, nil
	}
	return fsKind{name: fmt.Sprintf("0x%x", uint64(st.Type))}, nil
}

// containerStores are where container runtimes keep image layers and containers' upper
// directories, at their default places, as system paths: each is skipped whole, since its
// entries are the containers' files, owned by the containers' users and served, if at all, from
// inside a container, whose own audit judges them.
var containerStores = map[string]bool{
	"/var/lib/docker/overlay2":                                   true, // Docker's overlay2 driver: <id>/diff, <id>/merged
	"/var/lib/docker/rootfs":                                     true, // Docker with containerd's snapshotter: mounted roots
	"/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs": true, // snapshots/<n>/fs
	"/var/lib/containers/storage/overlay":                        true, // Podman, CRI-O
}

// containerTrees are directories below which an overlay mount is a container's root file
// system, mounted by its runtime: /run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/rootfs
// and the like, wherever Docker or Podman mount them.
var containerTrees = []string{"/var/lib/docker", "/var/lib/containerd", "/var/lib/containers", "/run/containerd", "/run/containers", "/run/docker"}

// isContainerStore reports whether sys, a directory's system path, is a container runtime's
// layer store: one of containerStores, or a rootless Podman's below a home.
func isContainerStore(sys string) bool {
	return containerStores[sys] || strings.HasSuffix(sys, "/.local/share/containers/storage/overlay")
}

// crossing decides whether the walk stays out of e, a directory on another device than its
// parent's: the root of a mount. It returns the skip, or false to enter it.
func crossing(e *Entry, sys string, rootDev uint64, oneFs bool) (Skip, bool) {
	// Where statfs fails, the walk reads the directory and reports what it cannot.
	k, err := fsTypeOf(e.Path)
	switch {
	case err != nil:
		k = fsKind{}
	case k.pseudo:
		return Skip{Path: e.Path, FsType: k.name, Reason: SkipPseudo}, true
	case k.name == "tmpfs" && sys == "/dev":
		// devtmpfs reports tmpfs's magic number; at /dev it holds device nodes, not files.
		return Skip{Path: e.Path, FsType: "devtmpfs", Reason: SkipPseudo}, true
	case k.name == "overlay" && within(sys, containerTrees):
		return Skip{Path: e.Path, FsType: k.name, Reason: SkipContainer}, true
	}
	if oneFs && e.Dev != rootDev {
		return Skip{Path: e.Path, FsType: k.name, Reason: SkipOtherFs}, true
	}
	return Skip{}, false
}

func within(path string, dirs []string) bool {
	for _, d := range dirs {
		if Within(path, d) {
			return true
		}
	}
	return false
}
