/**
 * The engine says why a name is not a reference in English (src/core/image/reference.ts, as docker's rules read).
 * Here each of its sentences is matched and told again in Chinese, with the quoted parts kept as typed.
 */
import type { Locale } from './index.svelte.ts';

const Q = String.raw`("(?:[^"\\]|\\.)*")`;
const N = String.raw`(\d+)`;
const W = String.raw`(\w+)`;

/** `"text"` (JSON-quoted by the engine) shown with Chinese quotation marks. */
function q(quoted: string): string {
  try {
    return `“${JSON.parse(quoted) as string}”`;
  } catch {
    return quoted;
  }
}

type Rule = [RegExp, (...parts: string[]) => string];

const rule = (pattern: string, render: (...parts: string[]) => string): Rule => [
  new RegExp(`^${pattern}$`, 's'),
  render,
];
const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const ZH: Rule[] = [
  rule('empty reference', () => '请输入镜像名称。'),
  rule(`a reference cannot contain whitespace: ${Q}`, (a) => `镜像名称中不能有空白字符：${q(a)}`),
  rule(
    `a reference is not a URL: remove ${Q} ${esc('(e.g. "ghcr.io/owner/image:tag")')}`,
    (a) => `镜像名称不是网址：请去掉 ${q(a)}（例如 ghcr.io/owner/image:tag）`,
  ),
  rule(
    `a 64-character hex string is an image ID, not a name: ${Q}`,
    (a) => `64 位十六进制字符串是镜像 ID，不是镜像名称：${q(a)}`,
  ),
  rule(
    `${Q} is a digest without a name: write it as name@(.+)`,
    (a, d) => `${q(a)} 只有摘要，没有名称：请写成 名称@${d}`,
  ),
  rule(`no repository name in ${Q}`, (a) => `${q(a)} 中缺少仓库名称`),
  rule(`no repository name after ${Q}`, (a) => `${q(a)} 之后缺少仓库名称`),
  rule(
    `uppercase letters are only allowed in the registry host: ${Q}`,
    (a) => `只有镜像仓库的主机名可以用大写字母，仓库名称必须小写：${q(a)}`,
  ),
  rule(
    `repository name ${Q} has an empty path component ${esc('(check the "/" characters)')}`,
    (a) => `仓库名称 ${q(a)} 中有空的路径段（请检查“/”）`,
  ),
  rule(
    `repository name component ${Q} is invalid: use lowercase letters and digits, joined by ${esc('".", "_", "__" or dashes, with no separator at either end')}`,
    (a) => `仓库名称中的 ${q(a)} 无效：只能用小写字母和数字，以“.”“_”“__”或“-”连接，首尾不能是分隔符`,
  ),
  rule(
    `repository name is longer than ${N} characters \\(${N}\\): ${Q}`,
    (max, n, a) => `仓库名称超过 ${max} 个字符（共 ${n} 个）：${q(a)}`,
  ),
  rule(
    `${Q} looks like a registry host without a repository: add "/name"`,
    (a) => `${q(a)} 像是镜像仓库的主机名，缺少仓库名称：请加上“/名称”`,
  ),
  rule(
    `registry host ${Q} is invalid: "\\]" is missing after the IPv6 address`,
    (a) => `镜像仓库主机 ${q(a)} 无效：IPv6 地址后缺少“]”`,
  ),
  rule(
    `registry host ${Q} is invalid: ${Q} is not an IPv6 address ${esc('(zone IDs and embedded IPv4 are not accepted)')}`,
    (a, b) => `镜像仓库主机 ${q(a)} 无效：${q(b)} 不是 IPv6 地址（不接受区域 ID 和内嵌的 IPv4 地址）`,
  ),
  rule(
    `registry host ${Q} is invalid: only ":port" may follow "\\]"`,
    (a) => `镜像仓库主机 ${q(a)} 无效：“]”之后只能是“:端口”`,
  ),
  rule(
    `registry host ${Q} is invalid: an IPv6 address must be written in brackets, e.g. ${esc('"[fc00::1]:5000"')}`,
    (a) => `镜像仓库主机 ${q(a)} 无效：IPv6 地址必须写在方括号里，例如 [fc00::1]:5000`,
  ),
  rule(
    `registry host ${Q} is invalid: a host name is dot-separated labels of letters, digits and "-", each starting and ending with a letter or digit`,
    (a) => `镜像仓库主机 ${q(a)} 无效：主机名由点分隔的若干段组成，每段只含字母、数字和“-”，并以字母或数字开头和结尾`,
  ),
  rule(
    `registry host ${Q} is invalid: port ${Q} is not a number`,
    (a, p) => `镜像仓库主机 ${q(a)} 无效：端口 ${q(p)} 不是数字`,
  ),
  rule(
    `registry host ${Q} is invalid: port ${N} is not between 1 and 65535`,
    (a, p) => `镜像仓库主机 ${q(a)} 无效：端口 ${p} 不在 1 到 65535 之间`,
  ),
  rule('tag "" is invalid: nothing follows ":"', () => '标签为空：“:”后面没有内容'),
  rule(
    `tag ${Q} is invalid: it has ${N} characters, at most ${N} are allowed`,
    (a, n, max) => `标签 ${q(a)} 无效：共 ${n} 个字符，最多只能有 ${max} 个`,
  ),
  rule(
    `tag ${Q} is invalid: it must start with a letter, a digit or "_"`,
    (a) => `标签 ${q(a)} 无效：必须以字母、数字或“_”开头`,
  ),
  rule(
    `tag ${Q} is invalid: ${Q} is not allowed, only letters, digits, "_", "." and "-"`,
    (a, c) => `标签 ${q(a)} 无效：不能使用 ${q(c)}，只能用字母、数字、“_”“.”和“-”`,
  ),
  rule('digest "" is invalid: nothing follows "@"', () => '摘要为空：“@”后面没有内容'),
  rule(
    `digest ${Q} is invalid: expected "algorithm:hex", e.g. "sha256:" and 64 hex characters`,
    (a) => `摘要 ${q(a)} 无效：格式应为“算法:十六进制值”，例如“sha256:”加 64 个十六进制字符`,
  ),
  rule(
    `digest ${Q} is invalid: ${Q} is not a digest algorithm name ${esc('(e.g. "sha256")')}`,
    (a, b) => `摘要 ${q(a)} 无效：${q(b)} 不是摘要算法名称（例如 sha256）`,
  ),
  rule(
    `digest ${Q} is invalid: a ${W} digest is lowercase hex`,
    (a, alg) => `摘要 ${q(a)} 无效：${alg} 摘要必须是小写十六进制`,
  ),
  rule(
    `digest ${Q} is invalid: a ${W} digest has ${N} hex characters, this one has ${N}`,
    (a, alg, n, m) => `摘要 ${q(a)} 无效：${alg} 摘要应有 ${n} 个十六进制字符，这里有 ${m} 个`,
  ),
  rule(
    `digest ${Q} is invalid: at least 32 hex characters must follow "(\\w+):"`,
    (a, alg) => `摘要 ${q(a)} 无效：“${alg}:”之后至少要有 32 个十六进制字符`,
  ),
  // A push target (core/push.ts parsePushTarget).
  rule(
    String.raw`Push to a tag \((.+):TAG\), not a digest: the manifest's digest follows from its content`,
    (name) => `请推送到标签（${name}:标签），而不是摘要：清单的摘要由其内容决定。`,
  ),
];

/** The engine's reason, in the page's language; undefined when a Chinese rendering is missing for it. */
export function translatedValidation(message: string, locale: Locale): string | undefined {
  if (locale === 'en') return message;
  for (const [pattern, render] of ZH) {
    const match = pattern.exec(message);
    if (match) return render(...match.slice(1));
  }
  return undefined;
}

/** What the page shows under the image field: the reason in the page's language, never left in English. */
export function validationText(message: string, locale: Locale): string {
  return translatedValidation(message, locale) ?? '这不是有效的镜像名称。';
}
