// `skiff run --image`, the layer cache, commit, export, image ls/prune, on real images that
// podman builds offline from the Alpine fixture (once per test run) and that podman and
// skopeo save and copy in the formats users have: oci-archive, oci-dir, skopeo's oci:DIR,
// docker-archive.
import Foundation
import XCTest

/// The test images, built once per test process under the temporary directory.
enum TestImages {
    struct Built {
        let dir: String
        /// test:1 — Alpine + RUN layers: rm /etc/motd, a new /opt/app, /etc/apk replaced
        /// (opaque), a 4 MiB /big then rm /big; ENV, WORKDIR, USER nobody, CMD.
        var ociArchive: String { dir + "/test1.oci.tar" }
        var ociDir: String { dir + "/test1-ocidir" }
        var skopeoDir: String { dir + "/test1-skopeo" }
        var dockerArchive: String { dir + "/test1.docker.tar" }
        /// test:2 — FROM test:1 with ENTRYPOINT echo, CMD, EXPOSE, STOPSIGNAL.
        var entrypointArchive: String { dir + "/test2.oci.tar" }
        /// The Alpine fixture imported with --arch arm64.
        var armArchive: String { dir + "/arm.oci.tar" }
        /// An image index (multi-architecture): test:1 for amd64, arm:1 for arm64; tag "multi".
        var multiArch: String { dir + "/multi" }
        /// An image index with arm64 only; tag "arm".
        var armOnlyIndex: String { dir + "/armonly" }
        /// A layer with device nodes (a block device and /dev/mem's numbers).
        var devArchive: String { dir + "/dev.oci.tar" }
        let baseLayers = 1
        let test1Layers = 5
    }

    static let fixture = "/work/shared/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz"

    private static var cached: Swift.Result<Built, Error>?

    static func get() throws -> Built {
        try Env.requireIntegration()
        if cached == nil { cached = Swift.Result { try build() } }
        return try cached!.get()
    }

    static func tool(_ name: String) -> String? {
        ["/usr/bin/" + name, "/bin/" + name, "/usr/sbin/" + name].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    private static func build() throws -> Built {
        guard let podman = tool("podman"), let skopeo = tool("skopeo") else {
            let reason = "image tests need podman and skopeo (scripts/deps installs them)"
            if ProcessInfo.processInfo.environment["SKIFF_REQUIRE_INTEGRATION"] == "1" { XCTFail(reason) }
            throw XCTSkip(reason)
        }
        let fixture = ProcessInfo.processInfo.environment["SKIFF_TEST_ROOTFS_TARBALL"] ?? fixture
        let tmp = FileManager.default.temporaryDirectory.path
        // Images of earlier test runs that died before their exit handler ran.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
        where name.hasPrefix("skiff-images-") {
            if let pid = Int32(name.dropFirst("skiff-images-".count)), kill(pid, 0) != 0 {
                removeStore(tmp + "/" + name)
            }
        }
        let dir = tmp + "/skiff-images-\(getpid())"
        removeStore(dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        storeDir = dir
        atexit { if let d = TestImages.storeDir { TestImages.removeStore(d) } }
        // A private podman store (its overlay driver writes opaque-directory markers, as Docker does).
        let store = [
            "--root", dir + "/storage", "--runroot", dir + "/run", "--storage-driver", "overlay",
            "--cgroup-manager", "cgroupfs", "--events-backend", "file",
        ]
        func must(_ program: String, _ args: [String]) throws {
            let r = runProgram(program, args, env: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": dir])
            if r.code != 0 {
                throw NSError(
                    domain: "TestImages", code: Int(r.code),
                    userInfo: [NSLocalizedDescriptionKey: "\(program) \(args.joined(separator: " ")): \(r.stderr)"])
            }
        }
        try must(podman, store + ["import", fixture, "localhost/base:1"])
        try """
        FROM localhost/base:1
        RUN rm /etc/motd && mkdir -p /opt/app && echo hi > /opt/app/hello
        RUN rm -rf /etc/apk && mkdir /etc/apk && echo only > /etc/apk/only
        RUN dd if=/dev/zero of=/big bs=1M count=4
        RUN rm /big
        ENV GREETING=bonjour
        WORKDIR /opt/app
        USER nobody
        CMD ["cat", "hello"]
        """.write(toFile: dir + "/Containerfile1", atomically: true, encoding: .utf8)
        try """
        FROM localhost/test:1
        USER root
        ENTRYPOINT ["/bin/echo", "entry:"]
        CMD ["default"]
        EXPOSE 8080
        STOPSIGNAL SIGQUIT
        """.write(toFile: dir + "/Containerfile2", atomically: true, encoding: .utf8)
        // RUN steps in a chroot (buildah's isolation): no OCI runtime or cgroup needed.
        try must(
            podman,
            store + ["build", "--isolation", "chroot", "-f", dir + "/Containerfile1", "-t", "localhost/test:1", dir])
        try must(
            podman,
            store + ["build", "--isolation", "chroot", "-f", dir + "/Containerfile2", "-t", "localhost/test:2", dir])
        let b = Built(dir: dir)
        try must(podman, store + ["save", "--format", "oci-archive", "-o", b.ociArchive, "localhost/test:1"])
        try must(podman, store + ["save", "--format", "oci-dir", "-o", b.ociDir, "localhost/test:1"])
        try must(podman, store + ["save", "--format", "docker-archive", "-o", b.dockerArchive, "localhost/test:1"])
        try must(podman, store + ["save", "--format", "oci-archive", "-o", b.entrypointArchive, "localhost/test:2"])
        try must(skopeo, ["copy", "oci-archive:" + b.ociArchive, "oci:" + b.skopeoDir + ":v1"])
        try must(
            podman,
            store + ["import", "--arch", "arm64", "--change", "CMD [\"/bin/true\"]", fixture, "localhost/arm:1"])
        try must(podman, store + ["save", "--format", "oci-archive", "-o", b.armArchive, "localhost/arm:1"])
        try must(podman, store + ["manifest", "create", "localhost/multi:1"])
        try must(podman, store + ["manifest", "add", "localhost/multi:1", "containers-storage:localhost/test:1"])
        try must(podman, store + ["manifest", "add", "localhost/multi:1", "containers-storage:localhost/arm:1"])
        try must(podman, store + ["manifest", "push", "--all", "localhost/multi:1", "oci:" + b.multiArch + ":multi"])
        try must(podman, store + ["manifest", "create", "localhost/armonly:1"])
        try must(podman, store + ["manifest", "add", "localhost/armonly:1", "containers-storage:localhost/arm:1"])
        try must(
            podman, store + ["manifest", "push", "--all", "localhost/armonly:1", "oci:" + b.armOnlyIndex + ":arm"])
        let devSrc = dir + "/devsrc"
        try must("/bin/mkdir", ["-p", devSrc + "/dev", devSrc + "/bin"])
        try must("/bin/mknod", [devSrc + "/dev/disk-copy", "b", "8", "0"])
        try must("/bin/mknod", [devSrc + "/dev/mem-copy", "c", "1", "1"])
        try "ok\n".write(toFile: devSrc + "/bin/file", atomically: true, encoding: .utf8)
        try must("/bin/tar", ["-C", devSrc, "-cf", dir + "/devlayer.tar", "."])
        try must(
            podman, store + ["import", "--change", "CMD [\"/bin/true\"]", dir + "/devlayer.tar", "localhost/dev:1"])
        try must(podman, store + ["save", "--format", "oci-archive", "-o", b.devArchive, "localhost/dev:1"])
        return b
    }

    static var storeDir: String?

    /// Remove a test image directory (podman's store holds files only root can remove,
    /// which root can; nothing in it is mounted once the builds are done).
    static func removeStore(_ dir: String) {
        _ = runProgram("/bin/rm", ["-rf", "--one-file-system", dir])
    }

    /// podman with the test store (for `podman load`).
    static func podman(_ args: [String]) -> Result {
        let dir = (try? get().dir) ?? "/tmp"
        let store = [
            "--root", dir + "/storage", "--runroot", dir + "/run", "--storage-driver", "overlay",
            "--cgroup-manager", "cgroupfs", "--events-backend", "file",
        ]
        return runProgram(
            tool("podman") ?? "/usr/bin/podman", store + args,
            env: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": dir])
    }
}

/// A hostile layer no tool writes, in an OCI layout (that skopeo then checks and copies):
/// Python's tarfile makes the layer, the rest is the image spec's JSON.
func handmadeLayout(_ dir: String, entries: String, wrongDiffID: Bool = false) -> Result {
    let script = """
        import gzip, hashlib, io, json, os, sys, tarfile
        out = sys.argv[1]
        os.makedirs(out + "/blobs/sha256", exist_ok=True)
        def blob(data):
            h = hashlib.sha256(data).hexdigest()
            open(out + "/blobs/sha256/" + h, "wb").write(data)
            return "sha256:" + h, len(data)
        raw = io.BytesIO()
        t = tarfile.open(fileobj=raw, mode="w")
        for name, kind, body in \(entries):
            i = tarfile.TarInfo(name)
            if kind == "dir":
                i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
            else:
                i.size = len(body); t.addfile(i, io.BytesIO(body))
        t.close()
        extra = b"x" if \(wrongDiffID ? "True" : "False") else b""
        diff = "sha256:" + hashlib.sha256(raw.getvalue() + extra).hexdigest()
        layer, lsize = blob(gzip.compress(raw.getvalue()))
        config, csize = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/true"]},
                                         "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode())
        oci = "application/vnd.oci.image."
        manifest, msize = blob(json.dumps({"schemaVersion": 2, "mediaType": oci + "manifest.v1+json",
            "config": {"mediaType": oci + "config.v1+json", "digest": config, "size": csize},
            "layers": [{"mediaType": oci + "layer.v1.tar+gzip", "digest": layer, "size": lsize}]}).encode())
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": oci + "manifest.v1+json",
            "digest": manifest, "size": msize, "annotations": {"org.opencontainers.image.ref.name": "1"}}]},
            open(out + "/index.json", "w"))
        open(out + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
        print(layer + " " + diff)
        """
    return runProgram("/usr/bin/python3", ["-c", script, dir])
}

final class ImageTests: XCTestCase {
    /// skiff with this test's layer cache.
    func skiff(_ s: Sandbox, _ cache: String, _ args: [String]) -> Result {
        runProgram(
            Env.skiff, ["--root", s.stateRoot] + args,
            env: ["SKIFF_IMAGE_CACHE": cache, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    }

    func setUpImages() throws -> (TestImages.Built, Sandbox, String) {
        let images = try TestImages.get() // before the sandbox's leak snapshot
        let s = try Sandbox()
        return (images, s, s.dir.appendingPathComponent("layers").path)
    }

    func layerDirs(_ cache: String) -> [String] {
        let d = cache + "/layers/sha256"
        return ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).sorted()
    }

    func testImageConfigAppliesAndFlagsOverrideIt() throws {
        let (img, s, cache) = try setUpImages()
        // CMD, WORKDIR, USER from the image.
        let r1 = skiff(s, cache, ["run", "--rm", "--image", img.ociArchive])
        XCTAssertEqual(r1.code, 0, r1.stderr)
        XCTAssertEqual(r1.out, "hi")
        // A command replaces CMD; ENV and the layered tree: the RUN layers' changes are
        // seen, /etc/motd deleted by a later layer is gone (a whiteout), /etc/apk was
        // replaced (an opaque directory: nothing of the base's /etc/apk shows).
        let r2 = skiff(
            s, cache,
            [
                "run", "--rm", "--image", img.ociArchive, "sh", "-c",
                "id -u; pwd; echo $GREETING; test -e /etc/motd || echo motd-gone; ls /etc/apk; test -e /big || "
                    + "echo big-gone; cat /etc/alpine-release",
            ])
        XCTAssertEqual(r2.code, 0, r2.stderr)
        XCTAssertEqual(
            r2.out.split(separator: "\n"), ["65534", "/opt/app", "bonjour", "motd-gone", "only", "big-gone", "3.20.3"])
        // Flags override the config.
        let r3 = skiff(
            s, cache,
            [
                "run", "--rm", "-u", "root", "-w", "/tmp", "-e", "GREETING=salut", "--image", img.ociArchive,
                "sh", "-c", "id -u; pwd; echo $GREETING",
            ])
        XCTAssertEqual(r3.code, 0, r3.stderr)
        XCTAssertEqual(r3.out.split(separator: "\n"), ["0", "/tmp", "salut"])
        // ENTRYPOINT + CMD; a command replaces CMD only; --entrypoint replaces ENTRYPOINT and drops CMD.
        XCTAssertEqual(skiff(s, cache, ["run", "--rm", "--image", img.entrypointArchive]).out, "entry: default")
        XCTAssertEqual(skiff(s, cache, ["run", "--rm", "--image", img.entrypointArchive, "a", "b"]).out, "entry: a b")
        let r4 = skiff(
            s, cache, ["run", "--rm", "--entrypoint", "/bin/cat", "--image", img.entrypointArchive, "/opt/app/hello"])
        XCTAssertEqual(r4.out, "hi", r4.stderr)
        s.assertNothingLeftBehind()
    }

    func testExplainNarratesLayersLowerdirAndArgs() throws {
        let (img, s, cache) = try setUpImages()
        let r1 = skiff(s, cache, ["--explain", "run", "--rm", "--image", img.ociArchive])
        XCTAssertEqual(r1.code, 0, r1.stderr)
        XCTAssertEqual(r1.stderr.components(separatedBy: "| tar -x").count - 1, img.test1Layers, r1.stderr)
        XCTAssertTrue(r1.stderr.contains("lowerdir=" + cache + "/layers/sha256/"), r1.stderr)
        XCTAssertTrue(r1.stderr.contains("process.args      from Cmd: [\"cat\", \"hello\"]"), r1.stderr)
        XCTAssertTrue(r1.stderr.contains("process.cwd       from WorkingDir: /opt/app"), r1.stderr)
        // The same image as an OCI directory: same blobs, so every layer is cached.
        let r2 = skiff(s, cache, ["--explain", "run", "--rm", "--image", img.ociDir, "true"])
        XCTAssertEqual(r2.code, 0, r2.stderr)
        XCTAssertEqual(r2.stderr.components(separatedBy: " (cached)\n").count - 1, img.test1Layers, r2.stderr)
        XCTAssertFalse(r2.stderr.contains("| tar -x"), r2.stderr)
        XCTAssertTrue(r2.stderr.contains("process.args      from command line: [\"true\"]"), r2.stderr)
        let r3 = skiff(s, cache, ["--explain", "run", "--rm", "--image", img.entrypointArchive])
        XCTAssertTrue(
            r3.stderr.contains("process.args      from Entrypoint+Cmd: [\"/bin/echo\", \"entry:\", \"default\"]"),
            r3.stderr)
        let r4 = skiff(s, cache, ["--explain", "run", "--rm", "--image", img.entrypointArchive, "x"])
        XCTAssertTrue(
            r4.stderr.contains("process.args      from Entrypoint+command line: [\"/bin/echo\", \"entry:\", \"x\"]"),
            r4.stderr)
        s.assertNothingLeftBehind()
    }

    /// skopeo's oci:DIR:TAG, podman's oci-dir and docker-archive, and a multi-architecture
    /// index (podman manifest push) where this machine's image is picked.
    func testSkopeoDirDockerArchiveAndIndexRun() throws {
        let (img, s, cache) = try setUpImages()
        for ref in [
            img.skopeoDir + ":v1", img.ociDir, img.dockerArchive, img.dockerArchive + ":test:1",
            img.multiArch + ":multi",
        ] {
            let r = skiff(
                s, cache,
                [
                    "run", "--rm", "--image", ref, "sh", "-c",
                    "cat hello; test -e /etc/motd || echo motd-gone; echo $GREETING",
                ])
            XCTAssertEqual(r.code, 0, "\(ref): \(r.stderr)")
            XCTAssertEqual(r.out.split(separator: "\n"), ["hi", "motd-gone", "bonjour"], ref)
        }
        s.assertNothingLeftBehind()
    }

    func testWhiteoutsInTheLayerCache() throws {
        let (img, s, cache) = try setUpImages()
        XCTAssertEqual(skiff(s, cache, ["run", "--rm", "--image", img.ociArchive, "true"]).code, 0)
        var whiteouts: [String] = []
        var markerFiles: [String] = []
        var opaque: [String] = []
        for layer in layerDirs(cache) where !layer.contains(".") {
            let root = cache + "/layers/sha256/" + layer
            for path in ["/etc/motd", "/big"] {
                var st = stat()
                if lstat(root + path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0 {
                    whiteouts.append(path)
                }
            }
            let e = FileManager.default.enumerator(atPath: root)
            while let p = e?.nextObject() as? String {
                if (p as NSString).lastPathComponent.hasPrefix(".wh.") { markerFiles.append(p) }
            }
            let x = runProgram(
                "/usr/bin/python3",
                [
                    "-c", "import os,sys; print(os.getxattr(sys.argv[1], 'trusted.overlay.opaque').decode())",
                    root + "/etc/apk",
                ])
            if x.out == "y" { opaque.append(layer) }
        }
        XCTAssertEqual(whiteouts.sorted(), ["/big", "/etc/motd"], "each deletion is a 0:0 character device")
        XCTAssertEqual(markerFiles, [], ".wh. files are converted, not kept")
        XCTAssertEqual(opaque.count, 1, "the layer that replaced /etc/apk marks it opaque")
        s.assertNothingLeftBehind()
    }

    /// The lab's "why one RUN with &&": rm in a later layer hides the file but the image keeps it.
    func testRemovingInALaterLayerDoesNotShrinkTheImage() throws {
        let (img, s, cache) = try setUpImages()
        let run = skiff(s, cache, ["run", "-d", "--name", "big", "--image", img.ociArchive, "sleep", "30"])
        XCTAssertEqual(run.code, 0, run.stderr)
        let info = json(skiff(s, cache, ["inspect", "--format", "json", "big"]).stdout)
        let lowers = (info?["image"] as? [String: Any])?["layers"] as? [String] ?? []
        XCTAssertEqual(lowers.count, img.test1Layers)
        let du = runProgram("/usr/bin/du", ["-sk", "--total"] + lowers)
        let totalKB = Int(du.out.split(separator: "\n").last?.split(separator: "\t").first ?? "") ?? 0
        let seen = skiff(
            s, cache, ["exec", "big", "sh", "-c", "test -e /big || echo gone; du -skx / 2>/dev/null | cut -f1"])
        XCTAssertEqual(seen.out.split(separator: "\n").first, "gone", seen.stderr)
        // The 4 MiB file is still in a lower layer: the layers weigh at least 4 MiB more
        // than what the container sees.
        let visibleKB = Int(seen.out.split(separator: "\n").last ?? "") ?? Int.max
        XCTAssertGreaterThanOrEqual(totalKB - visibleKB, 4096, "lowers \(totalKB) kB, visible \(visibleKB) kB")
        XCTAssertTrue(
            lowers.contains {
                (try? FileManager.default.attributesOfItem(atPath: $0 + "/big")[.size] as? Int) == 4 << 20
            })
        XCTAssertEqual(s.skiff(["kill", "big", "KILL"]).code, 0)
        XCTAssertTrue(waitFor { json(s.skiff(["state", "big"]).stdout)?["status"] as? String == "stopped" })
        XCTAssertEqual(s.skiff(["delete", "big"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testInspectShowsExposedPortsAndStopSignal() throws {
        let (img, s, cache) = try setUpImages()
        XCTAssertEqual(
            skiff(
                s, cache,
                ["run", "-d", "--name", "web", "--entrypoint", "sleep", "--image", img.entrypointArchive, "30"]
            ).code, 0)
        let text = skiff(s, cache, ["inspect", "web"]).stdout
        XCTAssertTrue(text.contains("exposed     8080/tcp"), text)
        XCTAssertTrue(text.contains("stop signal SIGQUIT"), text)
        XCTAssertTrue(text.contains("image       " + img.entrypointArchive), text)
        XCTAssertEqual(s.skiff(["kill", "web", "KILL"]).code, 0)
        XCTAssertTrue(waitFor { json(s.skiff(["state", "web"]).stdout)?["status"] as? String == "stopped" })
        XCTAssertEqual(s.skiff(["delete", "web"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testCommitRoundTripsThroughSkopeoPodmanAndSkiff() throws {
        let (img, s, cache) = try setUpImages()
        let r = skiff(
            s, cache,
            [
                "run", "--name", "c", "-u", "root", "--image", img.ociArchive, "sh", "-c",
                "echo new > /opt/app/new; rm /etc/issue; rm -rf /etc/ssl && mkdir /etc/ssl && touch /etc/ssl/mine",
            ])
        XCTAssertEqual(r.code, 0, r.stderr)
        let out = s.dir.appendingPathComponent("committed").path
        let c = skiff(s, cache, ["commit", "c", out + ":v2"])
        XCTAssertEqual(c.code, 0, c.stderr)
        XCTAssertTrue(c.out.hasPrefix("sha256:"), c.out)
        // skopeo reads it: one layer more than the base image, the config kept.
        let inspect = runProgram(TestImages.tool("skopeo")!, ["inspect", "oci:" + out + ":v2"])
        XCTAssertEqual(inspect.code, 0, inspect.stderr)
        let doc = json(inspect.stdout)
        XCTAssertEqual((doc?["Layers"] as? [String])?.count, img.test1Layers + 1, inspect.stdout)
        XCTAssertTrue((doc?["Env"] as? [String])?.contains("GREETING=bonjour") == true, inspect.stdout)
        XCTAssertEqual(doc?["Digest"] as? String, c.out)
        // podman loads it (as a tar, the way a layout travels to another machine).
        XCTAssertEqual(runProgram("/bin/tar", ["-C", out, "-cf", out + ".tar", "."]).code, 0)
        let load = TestImages.podman(["load", "-i", out + ".tar"])
        XCTAssertEqual(load.code, 0, load.stderr)
        XCTAssertEqual(
            TestImages.podman(["image", "inspect", "--format", "{{len .RootFS.Layers}}", "v2"]).out,
            "\(img.test1Layers + 1)")
        _ = TestImages.podman(["rmi", "v2"])
        // skiff runs it: the changes, the deletion (a whiteout again) and the replaced directory.
        let again = skiff(
            s, cache,
            [
                "run", "--rm", "--image", out + ":v2", "sh", "-c",
                "cat /opt/app/new; test -e /etc/issue || echo issue-gone; ls /etc/ssl; id -u",
            ])
        XCTAssertEqual(again.code, 0, again.stderr)
        XCTAssertEqual(again.out.split(separator: "\n"), ["new", "issue-gone", "mine", "65534"])
        // A second commit under another tag keeps both in index.json.
        XCTAssertEqual(skiff(s, cache, ["commit", "c", out + ":v3"]).code, 0)
        XCTAssertEqual(skiff(s, cache, ["run", "--rm", "--image", out + ":v2", "true"]).code, 0)
        XCTAssertEqual(skiff(s, cache, ["run", "--rm", "--image", out + ":v3", "true"]).code, 0)
        XCTAssertEqual(s.skiff(["delete", "c"]).code, 0)
        s.assertNothingLeftBehind()
    }

    /// A Dockerfile by hand: run a step on a --rootfs tree, commit; run the next step on the
    /// result, commit again. Each commit adds one layer.
    func testCommitFromRootfsThenFromTheCommittedImage() throws {
        let (_, s, cache) = try setUpImages()
        let out = s.dir.appendingPathComponent("byhand").path
        XCTAssertEqual(
            skiff(
                s, cache,
                [
                    "run", "--name", "step1", "-w", "/srv", "--rootfs", Env.rootfs!, "sh", "-c",
                    "mkdir -p /srv && echo one > /srv/one",
                ]
            ).code, 0)
        let c1 = skiff(s, cache, ["commit", "step1", out + ":1"])
        XCTAssertEqual(c1.code, 0, c1.stderr)
        let i1 = json(runProgram(TestImages.tool("skopeo")!, ["inspect", "oci:" + out + ":1"]).stdout)
        XCTAssertEqual((i1?["Layers"] as? [String])?.count, 2, "the rootfs, then the step's changes")
        XCTAssertEqual(
            skiff(
                s, cache,
                ["run", "--name", "step2", "--image", out + ":1", "sh", "-c", "echo two > /srv/two; rm /srv/one"]
            ).code, 0)
        XCTAssertEqual(skiff(s, cache, ["commit", "step2", out + ":2"]).code, 0)
        let i2 = json(runProgram(TestImages.tool("skopeo")!, ["inspect", "oci:" + out + ":2"]).stdout)
        XCTAssertEqual((i2?["Layers"] as? [String])?.count, 3)
        // The --rootfs container's process became the config (WorkingDir from -w).
        let r = skiff(s, cache, ["run", "--rm", "--image", out + ":2", "sh", "-c", "pwd; ls"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out.split(separator: "\n"), ["/srv", "two"])
        XCTAssertEqual(skiff(s, cache, ["run", "--rm", "--image", out + ":1", "cat", "/srv/one"]).out, "one")
        let missing = skiff(s, cache, ["commit", "nosuch", out + ":3"])
        XCTAssertEqual(missing.code, 1)
        XCTAssertEqual(missing.err, "skiff: container \"nosuch\" does not exist")
        for id in ["step1", "step2"] { XCTAssertEqual(s.skiff(["delete", id]).code, 0) }
        s.assertNothingLeftBehind()
    }

    func testExportReimportsThroughRootfs() throws {
        let (img, s, cache) = try setUpImages()
        XCTAssertEqual(
            skiff(
                s, cache,
                [
                    "run", "--name", "x", "-u", "root", "--image", img.ociArchive, "sh", "-c",
                    "echo mine > /opt/app/mine; rm /etc/issue",
                ]
            ).code, 0)
        let tar = s.dir.appendingPathComponent("x.tar").path
        let e = skiff(s, cache, ["export", "x", "-o", tar])
        XCTAssertEqual(e.code, 0, e.stderr)
        let members = runProgram("/bin/tar", ["-tf", tar]).out.split(separator: "\n").map(String.init)
        XCTAssertTrue(members.contains("./opt/app/mine"))
        XCTAssertTrue(members.contains("./opt/app/hello"))
        XCTAssertFalse(members.contains("./etc/issue"))
        XCTAssertFalse(members.contains("./etc/motd"))
        XCTAssertFalse(members.contains { $0.contains(".wh.") })
        // Re-imported as a plain rootfs: the tree is there, the image's config is not (CMD, WORKDIR).
        let rootfsCache = s.dir.appendingPathComponent("rootfs-cache").path
        let r = runProgram(
            Env.skiff,
            [
                "--root", s.stateRoot, "run", "--rm", "--rootfs", tar, "sh", "-c",
                "cat /opt/app/mine; pwd; test -e /etc/motd || echo motd-gone",
            ],
            env: ["SKIFF_CACHE": rootfsCache, "PATH": "/usr/bin:/bin"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(r.out.split(separator: "\n"), ["mine", "/", "motd-gone"])
        XCTAssertEqual(s.skiff(["delete", "x"]).code, 0)
        s.assertNothingLeftBehind()
    }

    func testConcurrentRunsUnpackEachLayerOnce() throws {
        let (img, s, cache) = try setUpImages()
        var procs: [(Process, URL)] = []
        for i in 0..<4 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Env.skiff)
            p.arguments = ["--root", s.stateRoot, "--explain", "run", "--rm", "--image", img.ociArchive, "true"]
            p.environment = ["SKIFF_IMAGE_CACHE": cache, "PATH": "/usr/bin:/bin", "SKIFF_DEFAULT_NETWORK": "none"]
            let err = s.dir.appendingPathComponent("err\(i)")
            FileManager.default.createFile(atPath: err.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: err)
            p.standardOutput = FileHandle.nullDevice
            p.standardInput = FileHandle.nullDevice
            procs.append((p, err))
        }
        for (p, _) in procs { try p.run() }
        var unpacked = 0
        var cached = 0
        for (p, err) in procs {
            p.waitUntilExit()
            let text = try String(contentsOf: err, encoding: .utf8)
            XCTAssertEqual(p.terminationStatus, 0, text)
            unpacked += text.components(separatedBy: "| tar -x").count - 1
            cached += text.components(separatedBy: " (cached)\n").count - 1
        }
        XCTAssertEqual(unpacked, img.test1Layers, "each layer unpacked exactly once")
        XCTAssertEqual(cached, 3 * img.test1Layers)
        XCTAssertEqual(layerDirs(cache).filter { $0.contains(".tmp.") }, [])
        s.assertNothingLeftBehind()
    }

    func testImageLsAndPrune() throws {
        let (img, s, cache) = try setUpImages()
        XCTAssertEqual(skiff(s, cache, ["run", "--rm", "--image", img.ociArchive, "true"]).code, 0)
        XCTAssertEqual(
            skiff(
                s, cache,
                ["run", "-d", "--name", "keep", "--entrypoint", "sleep", "--image", img.entrypointArchive, "30"]
            ).code, 0)
        let ls = skiff(s, cache, ["image", "ls"])
        XCTAssertEqual(ls.code, 0, ls.stderr)
        XCTAssertTrue(ls.out.contains(img.ociArchive) && ls.out.contains(img.entrypointArchive), ls.out)
        // Sizes as du counts them: the base layer is the Alpine tree (~8 MB).
        XCTAssertTrue(
            ls.out.range(
                of: #"sha256:[0-9a-f]{16} +[0-9]\.[0-9]MB +2 image\(s\) \(shared\)"#, options: .regularExpression)
                != nil, ls.out)
        // test:2 adds no filesystem layer: all of test:1's layers are shared.
        XCTAssertEqual(ls.out.components(separatedBy: "2 image(s) (shared)").count - 1, img.test1Layers, ls.out)
        // prune keeps what a container (running or stopped) uses.
        let p1 = skiff(s, cache, ["image", "prune"])
        XCTAssertEqual(p1.code, 0, p1.stderr)
        XCTAssertFalse(p1.out.contains("deleted"), p1.out)
        XCTAssertEqual(s.skiff(["kill", "keep", "KILL"]).code, 0)
        XCTAssertTrue(waitFor { json(s.skiff(["state", "keep"]).stdout)?["status"] as? String == "stopped" })
        XCTAssertEqual(skiff(s, cache, ["image", "prune"]).out.contains("deleted"), false)
        XCTAssertEqual(s.skiff(["delete", "keep"]).code, 0)
        let p2 = skiff(s, cache, ["image", "prune"])
        XCTAssertEqual(p2.out.components(separatedBy: "deleted sha256:").count - 1, img.test1Layers, p2.out)
        XCTAssertEqual(layerDirs(cache).filter { !$0.hasSuffix(".lock") }, [])
        XCTAssertFalse(skiff(s, cache, ["image", "ls"]).out.contains(img.ociArchive))
        s.assertNothingLeftBehind()
    }

    func testDeviceNodesInALayerAreNotCreated() throws {
        let (img, s, cache) = try setUpImages()
        let r = skiff(s, cache, ["--explain", "spec", "--bundle", s.dir.path, "--image", img.devArchive])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped devices   2 device node(s)"), r.stderr)
        let layers = layerDirs(cache).filter { !$0.contains(".") }
        XCTAssertEqual(layers.count, 1)
        let root = cache + "/layers/sha256/" + layers[0]
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/bin/file"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/dev/disk-copy"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/dev/mem-copy"))
        s.assertNothingLeftBehind()
    }

    /// A whiteout named ".wh.." would point at the layer's parent: the layer cache itself.
    func testHostileWhiteoutNameIsRefused() throws {
        let (img, s, cache) = try setUpImages()
        XCTAssertEqual(skiff(s, cache, ["run", "--rm", "--image", img.ociArchive, "true"]).code, 0)
        let before = layerDirs(cache)
        let made = s.dir.appendingPathComponent("made").path
        let h = handmadeLayout(
            made, entries: "[('etc', 'dir', b''), ('.wh...', 'file', b''), ('etc/.wh..', 'file', b'')]")
        XCTAssertEqual(h.code, 0, h.stderr)
        let copy = s.dir.appendingPathComponent("copied").path
        let sk = runProgram(TestImages.tool("skopeo")!, ["copy", "oci:" + made + ":1", "oci:" + copy + ":1"])
        XCTAssertEqual(sk.code, 0, "skopeo accepts the layout: \(sk.stderr)")
        let r = skiff(s, cache, ["run", "--rm", "--image", copy + ":1"])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.stderr)
        let layer = h.out.split(separator: " ").first.map(String.init) ?? "?"
        XCTAssertTrue(r.err.contains("layer \(layer): whiteout ") && r.err.contains("names no file"), r.err)
        XCTAssertEqual(
            layerDirs(cache).filter { !$0.hasSuffix(".lock") }, before.filter { !$0.hasSuffix(".lock") },
            "the cache is untouched and no half layer stays")
        s.assertNothingLeftBehind()
    }

    /// The blob matches its digest but its content is not what the config says (diff_id).
    func testLayerNotMatchingItsDiffIDIsRefused() throws {
        let (_, s, cache) = try setUpImages()
        let made = s.dir.appendingPathComponent("made").path
        let h = handmadeLayout(made, entries: "[('etc', 'dir', b''), ('etc/hi', 'file', b'hi')]", wrongDiffID: true)
        XCTAssertEqual(h.code, 0, h.stderr)
        let parts = h.out.split(separator: " ").map(String.init)
        let r = skiff(s, cache, ["run", "--rm", "--image", made + ":1", "true"])
        let unpacked = "gzip -dc \(made)/blobs/sha256/\(parts[0].dropFirst(7)) | sha256sum | cut -d' ' -f1"
        let realDiffID = runProgram("/bin/sh", ["-c", unpacked]).out
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(
            r.err,
            "skiff: image \(made):1: layer \(parts[0]): its content does not match the config's diff_id "
                + "\(parts[1]) (read sha256:\(realDiffID))"
        )
        XCTAssertEqual(layerDirs(cache).filter { !$0.hasSuffix(".lock") }, [])
        // The same layout with the right diff_id runs.
        let good = s.dir.appendingPathComponent("good").path
        XCTAssertEqual(handmadeLayout(good, entries: "[('etc', 'dir', b''), ('etc/hi', 'file', b'hi')]").code, 0)
        let ok = skiff(s, cache, ["spec", "--bundle", s.dir.path, "--image", good + ":1"])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        s.assertNothingLeftBehind()
    }

    func testBadImagesOneLineNothingHalfUnpacked() throws {
        let (img, s, cache) = try setUpImages()
        let bad = s.dir.appendingPathComponent("bad").path
        func fresh() throws -> String {
            try? FileManager.default.removeItem(atPath: bad)
            XCTAssertEqual(runProgram("/bin/cp", ["-a", img.ociDir, bad]).code, 0)
            // The base layer: the biggest blob.
            let blobs = bad + "/blobs/sha256"
            return try FileManager.default.contentsOfDirectory(atPath: blobs).max { a, b in
                ((try? FileManager.default.attributesOfItem(atPath: blobs + "/" + a)[.size] as? Int) ?? 0)
                    < ((try? FileManager.default.attributesOfItem(atPath: blobs + "/" + b)[.size] as? Int) ?? 0)
            }!
        }
        func assertOneLine(_ r: Result, _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertEqual(r.code, 1, r.stderr, file: file, line: line)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
            XCTAssertTrue(r.err.contains(needle), "\(r.err) should name \(needle)", file: file, line: line)
            XCTAssertEqual(
                layerDirs(cache).filter { !$0.hasSuffix(".lock") }, [], "no layer, whole or half", file: file,
                line: line)
        }
        // Truncated.
        var layer = try fresh()
        XCTAssertEqual(truncate(bad + "/blobs/sha256/" + layer, 100_000), 0)
        assertOneLine(skiff(s, cache, ["run", "--rm", "--image", bad, "true"]), "layer sha256:\(layer) is truncated")
        // Tampered (same size, one byte changed, in the middle of the gzip stream).
        layer = try fresh()
        let fh = try FileHandle(forUpdating: URL(fileURLWithPath: bad + "/blobs/sha256/" + layer))
        try fh.seek(toOffset: 1_000_000)
        let byte = try fh.read(upToCount: 1)!
        try fh.seek(toOffset: 1_000_000)
        try fh.write(contentsOf: Data([byte[0] ^ 0xff]))
        try fh.close()
        assertOneLine(
            skiff(s, cache, ["run", "--rm", "--image", bad, "true"]), "layer sha256:\(layer) does not match its digest")
        // Missing blob.
        layer = try fresh()
        try FileManager.default.removeItem(atPath: bad + "/blobs/sha256/" + layer)
        assertOneLine(skiff(s, cache, ["run", "--rm", "--image", bad, "true"]), "sha256:\(layer) is missing")
        // Unknown tag, in a directory and in an archive.
        assertOneLine(skiff(s, cache, ["run", "--rm", "--image", img.ociDir + ":nope", "true"]), "no tag \"nope\"")
        assertOneLine(
            skiff(s, cache, ["run", "--rm", "--image", img.dockerArchive + ":nope", "true"]), "no tag \"nope\"")
        // Another architecture.
        assertOneLine(skiff(s, cache, ["run", "--rm", "--image", img.armArchive, "true"]), "is for linux/arm64")
        assertOneLine(
            skiff(s, cache, ["run", "--rm", "--image", img.armOnlyIndex + ":arm", "true"]),
            "has no linux/amd64 image (only linux/arm64)")
        // Not an image.
        assertOneLine(skiff(s, cache, ["run", "--rm", "--image", s.dir.path, "true"]), "no index.json")
        XCTAssertEqual(layerDirs(cache).filter { $0.contains(".tmp.") || $0.hasSuffix(".err") }, [])
        s.assertNothingLeftBehind()
    }
}
