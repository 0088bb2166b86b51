#!/bin/sh
# Builds target/rpm/de-platform-runtime-VERSION-RELEASE.x86_64.rpm from the output of `mvn package`
# (target/enclavectl.jar, target/image.bin): generates the man pages and the completion from the picocli
# model, stages every file where the package installs it, and runs rpmbuild. `mvn -Prpm package` runs this;
# by hand, after `mvn package`: packaging/rpm/build-rpm.sh. Needs rpmbuild and asciidoctor (Debian packages
# rpm and asciidoctor). See docs/install.md.
#
# usage: build-rpm.sh [PROJECT_VERSION]   (default: the version in the jar's manifest)
# env:   PICOCLI_CODEGEN_JAR (default: from ~/.m2), JAVA_HOME
set -eu
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
target=$project/target
jar=$target/enclavectl.jar
if [ -n "${JAVA_HOME:-}" ]; then java=$JAVA_HOME/bin/java; else java=java; fi

for f in "$jar" "$target/image.bin"; do
    [ -f "$f" ] || { echo "build-rpm: $f is missing; run 'mvn package' first" >&2; exit 1; }
done
for tool in rpmbuild asciidoctor; do
    command -v $tool >/dev/null 2>&1 || {
        echo "build-rpm: $tool is not installed (Debian: apt-get install rpm asciidoctor)" >&2; exit 1; }
done

version=${1:-$(unzip -p "$jar" META-INF/MANIFEST.MF | sed -n 's/^Implementation-Version: *\([^[:space:]]*\).*/\1/p')}
# RPM versions have no '-': 0.1.0-SNAPSHOT is version 0.1.0, release 0.snapshot (sorts before release 1).
case "$version" in
    *-SNAPSHOT) rpm_version=${version%-SNAPSHOT}; rpm_release=0.snapshot ;;
    *) rpm_version=$version; rpm_release=1 ;;
esac
codegen=${PICOCLI_CODEGEN_JAR:-$(ls "$HOME"/.m2/repository/info/picocli/picocli-codegen/*/picocli-codegen-*.jar 2>/dev/null | grep -v sources | tail -1)}
[ -f "$codegen" ] || { echo "build-rpm: picocli-codegen jar not found; set PICOCLI_CODEGEN_JAR" >&2; exit 1; }

work=$target/rpm
stage=$work/stage
rm -rf "$work"
mkdir -p "$stage" "$work/docgen"

# Man pages (AsciiDoc from picocli's ManPageGenerator, troff by asciidoctor) and bash completion.
"$java" -cp "$jar:$codegen" "$project/packaging/docgen/GenerateDocs.java" "$work/docgen"
man=$stage/usr/share/man
mkdir -p "$man/man1" "$man/man5"
asciidoctor -b manpage -a "mansource=enclavectl $version" -a "manmanual=enclavectl Manual" -D "$man/man1" \
    "$work"/docgen/adoc/enclavectl*.adoc
asciidoctor -b manpage -a "mansource=enclavectl $version" -a "manmanual=enclavectl Manual" -D "$man/man5" \
    "$work/docgen/adoc/enclave.conf.adoc"
gzip -9n "$man"/man1/*.1 "$man"/man5/*.5

install -D -m 0755 "$project/packaging/enclavectl" "$stage/usr/bin/enclavectl"
install -D -m 0644 "$jar" "$stage/usr/share/de-platform-runtime/enclavectl.jar"
install -D -m 0755 "$here/build-class-data-archive" "$stage/usr/share/de-platform-runtime/build-class-data-archive"
install -D -m 0644 "$project/conf/enclave.conf" "$stage/etc/enclave.conf"
install -D -m 0644 "$here/de-platform-runtime.logrotate" "$stage/etc/logrotate.d/de-platform-runtime"
install -D -m 0644 "$target/image.bin" "$stage/usr/local/share/dragonfly/image.bin"
install -D -m 0644 "$project/packaging/de_platform_service.service" \
    "$stage/usr/lib/systemd/system/de_platform_service.service"
install -D -m 0644 "$here/de-platform-runtime.tmpfiles" "$stage/usr/lib/tmpfiles.d/de-platform-runtime.conf"
# Sourced, not run: without picocli's #! line.
install -d "$stage/usr/share/bash-completion/completions"
sed '1{/^#!/d}' "$work/docgen/completion/enclavectl" > "$stage/usr/share/bash-completion/completions/enclavectl"
install -D -m 0644 "$work/docgen/completion/_enclavectl" "$stage/usr/share/zsh/site-functions/_enclavectl"
install -D -m 0644 "$project/LICENSE" "$stage/usr/share/licenses/de-platform-runtime/LICENSE"
install -d -m 0755 "$stage/usr/share/doc/de-platform-runtime"
install -m 0644 "$project/README.md" "$project"/docs/*.md "$stage/usr/share/doc/de-platform-runtime/"
install -d -m 0750 "$stage/var/log/enclave"

rpmbuild -bb --quiet \
    --define "_topdir $work/build" \
    --define "stage $stage" \
    --define "pkg_version $rpm_version" \
    --define "pkg_release $rpm_release" \
    "$here/de-platform-runtime.spec"
cp "$work"/build/RPMS/x86_64/de-platform-runtime-*.rpm "$work/"
ls "$work"/de-platform-runtime-*.rpm
