/**
 * logship_<version>_<arch>.deb around the single executable, built with
 * dpkg-deb alone (no debhelper: there is nothing to compile). What it holds:
 *
 *   /usr/bin/logship                              the executable (sea.ts)
 *   /usr/lib/systemd/system/logship.service       systemd/logship.service
 *   /etc/logship/logship.yaml                     conffile: config.example.yaml as installed
 *   /etc/default/logship                          conffile: the unit's environment
 *   /usr/share/bash-completion/completions/logship
 *   /usr/share/doc/logship/copyright              logship's, Node's and the bundled packages' notices
 *
 * packaging/deb/ holds the maintainer scripts: the logship user (in adm),
 * /var/lib/logship, the unit's state; a purge removes all of them.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import { repoPath } from '../../test/support/repo-path.ts';
import type { BundledPackage } from './bundle.ts';
import { DEB_ARCH, nodeBinary, type Arch } from './node-runtime.ts';

/** Where the package puts things: the tests and the unit use the same paths. */
export const INSTALLED = {
  binary: '/usr/bin/logship',
  unit: '/usr/lib/systemd/system/logship.service',
  config: '/etc/logship/logship.yaml',
  defaults: '/etc/default/logship',
  completion: '/usr/share/bash-completion/completions/logship',
  doc: '/usr/share/doc/logship',
  stateDir: '/var/lib/logship',
} as const;

const MAINTAINER = 'logship maintainers <maintainers@logship.dev>';

interface PackageJson {
  version: string;
  description: string;
  license: string;
}

const CONFIG_HEADER = `# ${INSTALLED.config}, installed by the logship package: your edits are
# kept on upgrades. Set the brokers (here, or KAFKA_BROKERS in ${INSTALLED.defaults}),
# try it with \`logship check --config ${INSTALLED.config}\`, then
# \`systemctl enable --now logship\`. A changed input applies on \`systemctl reload logship\`.
`;

/**
 * config.example.yaml as installed: it already names the installed places
 * (checked here, so that an edit of the example cannot ship a config that
 * does not fit the package), under a header saying what to do with it.
 */
export function installedConfig(): string {
  const example = readFileSync(repoPath('config.example.yaml'), 'utf8');
  const doc = parse(example) as { state_dir?: string; inputs?: { paths?: string[] }[]; kafka?: { brokers?: string[] } };
  const problems = [
    doc.state_dir === INSTALLED.stateDir ? '' : `state_dir is ${doc.state_dir}, the package makes ${INSTALLED.stateDir}`,
    doc.inputs?.[0]?.paths?.includes('/var/log/nginx/access.log') ? '' : 'the first input does not read /var/log/nginx/access.log',
    doc.kafka?.brokers?.some((b) => b.includes('${KAFKA_BROKERS')) ? '' : `kafka.brokers does not take \${KAFKA_BROKERS} (${INSTALLED.defaults} sets it)`,
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`config.example.yaml cannot be installed as ${INSTALLED.config}: ${problems.join('; ')}`);
  // The schema is not installed: `logship check` validates.
  return CONFIG_HEADER + example.replace(/^# Validate with the JSON Schema.*\n/m, '');
}

/** Bytes under `dir`, in KiB as Installed-Size wants them, and the md5sums of its files. */
function inventory(dir: string): { kib: number; md5sums: string } {
  let bytes = 0;
  const lines: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        bytes += statSync(path).size;
        lines.push(`${createHash('md5').update(readFileSync(path)).digest('hex')}  ${relative(dir, path)}`);
      }
    }
  };
  walk(dir);
  return { kib: Math.ceil(bytes / 1024), md5sums: lines.sort().join('\n') + '\n' };
}

/** The shared libraries the executable needs, as Debian names them (dpkg-shlibdeps). */
function sharedLibraryDepends(workDir: string, binaryInTree: string): string {
  writeFileSync(join(workDir, 'debian', 'control'), 'Source: logship\n\nPackage: logship\nArchitecture: any\n');
  const out = execFileSync('dpkg-shlibdeps', ['-O', `-e${relative(workDir, binaryInTree)}`], { cwd: workDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const depends = /^shlibs:Depends=(.*)$/m.exec(out)?.[1];
  if (!depends) throw new Error(`dpkg-shlibdeps gave no dependencies for ${binaryInTree}: ${out}`);
  return depends;
}

function copyright(pkg: PackageJson, bundled: BundledPackage[], nodeLicense: string): string {
  const notice = (p: BundledPackage): string => {
    const file = readdirSync(p.dir).find((name) => /^(licen[cs]e|copying|notice)(\.|$)/i.test(name));
    return file ? readFileSync(join(p.dir, file), 'utf8').trim() : `License: ${p.license}`;
  };
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: logship',
    'Source: https://github.com/logship/logship',
    '',
    'Files: *',
    `License: ${pkg.license}`,
    ' /usr/bin/logship is logship with Node.js and these npm packages inside;',
    ' their notices follow.',
    '',
    `Node.js ${process.versions.node}`,
    nodeLicense.trim(),
    ...bundled.map((p) => `\n----\n${p.name} ${p.version} (${p.license})\n${notice(p)}`),
    '',
  ].join('\n');
}

export interface DebBuild {
  arch: Arch;
  /** The executable (sea.ts). */
  sea: string;
  bundled: BundledPackage[];
  /** Scratch space: the package tree is made here. */
  workDir: string;
  outDir: string;
  /** xz level: 6 is dpkg's default (smallest); 1 is ~7x faster for ~15% more bytes (the tests use it). */
  xzLevel: number;
  /** `logship completion` as the executable prints it. */
  completion: string;
}

/** Builds the .deb; returns its path. */
export function buildDeb(build: DebBuild): string {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as PackageJson;
  const tree = join(build.workDir, 'debian', 'logship');
  rmSync(tree, { recursive: true, force: true });
  const put = (path: string, content: string | { copyOf: string }, mode = 0o644): string => {
    const file = join(tree, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    if (typeof content === 'string') writeFileSync(file, content);
    else copyFileSync(content.copyOf, file);
    chmodSync(file, mode);
    return file;
  };

  const binary = put(INSTALLED.binary, { copyOf: build.sea }, 0o755);
  put(INSTALLED.unit, { copyOf: repoPath('systemd/logship.service') });
  put(INSTALLED.config, installedConfig());
  put(INSTALLED.defaults, { copyOf: repoPath('packaging/deb/logship.default') });
  put(INSTALLED.completion, build.completion);
  const nodeLicense = readFileSync(join(dirname(nodeBinary(build.arch)), '..', 'LICENSE'), 'utf8');
  put(`${INSTALLED.doc}/copyright`, copyright(pkg, build.bundled, nodeLicense));

  // dpkg-shlibdeps reads only binaries of the machine's architecture; for
  // another, the x64 build of the same Node stands in (Node's Linux builds
  // all target the same glibc and libstdc++ baseline).
  const depends = sharedLibraryDepends(build.workDir, build.arch === process.arch ? binary : nodeBinary('x64'));
  const { kib, md5sums } = inventory(tree);
  const debian = (name: string, content: string | { copyOf: string }, mode = 0o644) => put(`DEBIAN/${name}`, content, mode);
  for (const script of ['postinst', 'prerm', 'postrm']) debian(script, { copyOf: repoPath(`packaging/deb/${script}`) }, 0o755);
  debian('conffiles', `${INSTALLED.config}\n${INSTALLED.defaults}\n`);
  debian('md5sums', md5sums);
  debian(
    'control',
    [
      'Package: logship',
      `Version: ${pkg.version}`,
      `Architecture: ${DEB_ARCH[build.arch]}`,
      `Maintainer: ${MAINTAINER}`,
      `Installed-Size: ${kib}`,
      // adduser: the postinst makes the logship user. systemd is not needed: the agent runs without it.
      `Depends: ${depends}, adduser`,
      'Section: admin',
      'Priority: optional',
      'Homepage: https://github.com/logship/logship',
      `Description: ${pkg.description.replace(/\.$/, '').replace(/^Ships/, 'ships')}`,
      ' logship follows access-log files (nginx log_format presets or the format',
      ' string itself), parses each line into typed JSON and produces it to Kafka,',
      ' with checkpoints and an on-disk spool so that no line is lost or shipped',
      ' twice across restarts, rotations and Kafka outages.',
      ' .',
      ' One executable with Node.js inside; a sandboxed systemd service.',
      '',
    ].join('\n'),
  );

  mkdirSync(build.outDir, { recursive: true });
  const deb = join(build.outDir, `logship_${pkg.version}_${DEB_ARCH[build.arch]}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', `-z${build.xzLevel}`, '--build', tree, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  return deb;
}
