package dev.netwatcher.event;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Container ids and pod uids in the cgroup paths the runtimes and the kubelet make (systemd and cgroupfs drivers). */
class CgroupNamesTest {
    private static final String ID = "4f1c2b9e8d7a6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3";
    private static final String POD = "0b8a6c2e-31f4-4d7a-9c2b-6e5f4a3b2c1d";

    @Test
    void containerRuntimes() {
        assertEquals(ID, CgroupNames.container("/system.slice/docker-" + ID + ".scope"));
        assertEquals(ID, CgroupNames.container("/docker/" + ID));
        assertEquals(ID, CgroupNames.container("/machine.slice/libpod-" + ID + ".scope/container"));
        assertEquals(ID, CgroupNames.container("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + POD.replace('-', '_') + ".slice/cri-containerd-" + ID + ".scope"));
        assertEquals(ID, CgroupNames.container("/kubepods.slice/kubepods-pod" + POD.replace('-', '_') + ".slice/crio-" + ID + ".scope"));
        assertEquals(ID, CgroupNames.container("/kubepods/besteffort/pod" + POD + "/" + ID));
    }

    @Test
    void pods() {
        assertEquals(POD, CgroupNames.podUid("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + POD.replace('-', '_') + ".slice/cri-containerd-" + ID + ".scope"));
        assertEquals(POD, CgroupNames.podUid("/kubepods/besteffort/pod" + POD + "/" + ID));
        assertEquals(POD, CgroupNames.podUid("/kubepods.slice/kubepods-pod" + POD.replace('-', '_') + ".slice"));
        assertNull(CgroupNames.podUid("/system.slice/docker-" + ID + ".scope"));
    }

    @Test
    void hostPathsNameNoContainer() {
        for (String p : new String[] {"/", "/user.slice/user-0.slice/session-3.scope", "/system.slice/ssh.service",
                "/system.slice/docker.service", "/init.scope", "/" + ID.substring(1), "/x" + ID}) {
            assertNull(CgroupNames.container(p), p);
            assertNull(CgroupNames.podUid(p), p);
        }
    }

    @Test
    void consoleNames() {
        assertEquals("docker:4f1c2b9e8d7a", CgroupNames.shortName(new Cgroup("/system.slice/docker-" + ID + ".scope"), 24));
        assertEquals("podman:4f1c2b9e8d7a", CgroupNames.shortName(new Cgroup("/machine.slice/libpod-" + ID + ".scope/container"), 24));
        assertEquals("/system.slice/ssh.service", CgroupNames.shortName(new Cgroup("/system.slice/ssh.service"), 25));
        assertEquals("…ice/ssh.service", CgroupNames.shortName(new Cgroup("/system.slice/ssh.service"), 16));
        assertEquals("-", CgroupNames.shortName(null, 24));
    }

    @Property
    void anyPathIsParsedWithoutException(@ForAll String path) {
        CgroupNames.container(path);
        CgroupNames.podUid(path);
        new Cgroup(path);
    }
}
