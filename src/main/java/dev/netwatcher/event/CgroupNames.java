package dev.netwatcher.event;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a cgroup path says about a container: the container id the runtimes put in it, and
 * the pod of a kubelet path. The forms (systemd and cgroupfs drivers):
 * <ul>
 * <li>docker: {@code /system.slice/docker-<id>.scope}, {@code /docker/<id>}</li>
 * <li>containerd (CRI): {@code .../cri-containerd-<id>.scope}, {@code /kubepods/.../<id>}</li>
 * <li>cri-o: {@code .../crio-<id>.scope}, {@code .../crio-conmon-<id>.scope} is its monitor, not a container</li>
 * <li>podman: {@code .../libpod-<id>.scope}, {@code /machine.slice/libpod-<id>.scope/container}</li>
 * <li>kubelet: {@code /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/...},
 * {@code /kubepods/besteffort/pod<uid>/<id>}</li>
 * </ul>
 * An id is 64 hex digits; the last such component of the path is the container.
 */
public final class CgroupNames {
    private CgroupNames() {}

    private static final Pattern CONTAINER = Pattern.compile(
            "(?:^|/)(?:docker-|cri-containerd-|crio-|libpod-|containerd-)?([0-9a-f]{64})(?:\\.scope)?(?=/|$)");
    private static final Pattern POD = Pattern.compile(
            "(?:^|/)(?:kubepods(?:-[a-z]+)?-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\\.slice)?(?=/|$)");

    /** The container id in path, or null. */
    public static String container(String path) {
        if (path == null) return null;
        Matcher m = CONTAINER.matcher(path);
        String id = null;
        while (m.find()) id = m.group(1);
        return id;
    }

    /** The kubernetes pod uid in path (dashes, as the API shows it), or null. */
    public static String podUid(String path) {
        if (path == null) return null;
        Matcher m = POD.matcher(path);
        String uid = null;
        while (m.find()) uid = m.group(1).replace('_', '-');
        return uid;
    }

    /**
     * For a console column: "docker:0123456789ab"-like for a container (the runtime's prefix
     * when the path names it, else "ctr:"), else the path with its leading part cut to fit.
     */
    public static String shortName(Cgroup cg, int width) {
        if (cg == null) return "-";
        String path = cg.path(), id = cg.container();
        if (id != null) {
            String runtime = path.contains("docker") ? "docker" : path.contains("crio") ? "crio"
                    : path.contains("containerd") ? "containerd" : path.contains("libpod") ? "podman" : "ctr";
            return runtime + ":" + id.substring(0, 12);
        }
        String p = path.replace(' ', '_');
        return p.length() <= width ? p : "…" + p.substring(p.length() - width + 1);
    }
}
