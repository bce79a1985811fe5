/** What the page says when something goes wrong (简体中文). */
import { formatDuration } from '../../lib/format.ts';
import type { Messages } from '../en.ts';

export const advice: Messages['advice'] = {
  network: (host: string) =>
    `浏览器无法连接${host ? `到 ${host}` : '镜像仓库'}，而浏览器不会告知具体原因。可能是镜像仓库没有运行或从这里无法访问（名称或端口有误、没有服务在监听、被防火墙拦截），也可能是它不允许网页直接访问：大多数镜像仓库（Docker Hub、GHCR、Quay 等）都不发送 CORS 响应头。`,
  networkPlainHttp: (host: string) =>
    `本页是用 HTTPS 访问 ${host} 的。如果它只提供 HTTP，请在“设置 → 使用纯 HTTP 的镜像仓库”中添加它。`,
  networkFix:
    '对于不支持 CORS 的镜像仓库，请在“设置 → 中继地址”中填写中继。托管本页的人可以运行一个中继（npm start 会在 /relay/ 提供）；请向管理员询问地址。',
  networkRelay: (relay: string) => `位于 ${relay} 的中继没有响应。请确认中继正在运行，并且本浏览器能访问它。`,
  relayCheckName: (host: string, registries: string[]) =>
    `请先检查镜像仓库名称 ${host} 是否拼写有误。${registries.length ? `常用的镜像仓库（越相近越靠前）：${registries.join('、')}。` : ''}`,
  relayHostNotAllowed: (relay: string, host: string) =>
    `位于 ${relay} 的中继拒绝连接 ${host}：它不在中继的允许列表中，所以请求根本没有发到镜像仓库。请联系中继的管理员，把 ${host} 加入 RELAY_ALLOW。`,
  relayPrivateAddress: (relay: string, host: string) =>
    `位于 ${relay} 的中继拒绝连接 ${host}：这是私有、环回或链路本地地址，中继只有在明确允许时才会访问。请联系中继的管理员，把 ${host} 加入 RELAY_ALLOW_PRIVATE（如果它只提供 HTTP，还要加入 RELAY_PLAIN_HTTP）。`,
  relayBypass: (host: string) =>
    `如果 ${host} 自己会发送 CORS 响应头，也可以在“设置”中清空中继地址，让本页直接访问它。`,
  relayRedirect: (relay: string, host: string) =>
    `镜像仓库把位于 ${relay} 的中继转到了 ${host}（重定向或其登录服务），而中继不访问那里。请联系中继的管理员，把 ${host} 加入 RELAY_ALLOW；如果那里只提供 HTTP，还要加入 RELAY_PLAIN_HTTP。`,
  relayDns: (relay: string, host: string) =>
    `位于 ${relay} 的中继找不到 ${host}：域名无法解析（DNS）。请检查镜像仓库名称；只有您内部网络才认识的名称，网络之外的中继是解析不了的。`,
  relayDnsPublic: (relay: string, host: string) =>
    `位于 ${relay} 的中继找不到 ${host}：从中继那里无法解析这个域名（DNS），所以请求根本没有发到镜像仓库。${host} 是公共镜像仓库，因此很可能是中继所在的网络无法访问互联网或其 DNS（防火墙或物理隔离）。请联系中继的管理员。`,
  relayDnsMirror: '对于 Docker Hub 的镜像，可以改用您内部网络中的镜像站：在“设置 → Docker Hub 镜像加速地址”中填写。',
  relayRefused: (relay: string, host: string) =>
    `${host} 拒绝了中继（${relay}）的连接：该端口上没有服务在监听，或者镜像仓库没有运行。请检查端口，并确认镜像仓库正在运行。`,
  relayConnectTimeout: (relay: string, host: string) =>
    `位于 ${relay} 的中继无法连接 ${host}：连接尝试超时。可能是防火墙丢弃了连接，或者镜像仓库没有运行。镜像仓库没有做出任何响应。`,
  relayTls: (relay: string, host: string) =>
    `位于 ${relay} 的中继用 HTTPS 访问 ${host}，但对方没有以 HTTPS 响应，很可能它只提供 HTTP。请联系中继的管理员，把 ${host} 加入 RELAY_PLAIN_HTTP。`,
  relayUnreachable: (relay: string, host: string) =>
    `位于 ${relay} 的中继无法连接 ${host}：镜像仓库可能没有运行，或两者之间的网络不通。镜像仓库没有做出任何响应。`,
  relayTimeout: (relay: string, host: string) =>
    `${host} 没有及时响应位于 ${relay} 的中继。请重试；如果反复出现，说明镜像仓库负载过高，或到它的网络非常慢。`,
  relayRateLimited: (relay: string) =>
    `位于 ${relay} 的中继正在限制本浏览器的请求频率（限制来自中继，而不是镜像仓库）。请等一分钟再试；中继的管理员可以调高 RELAY_RATE_LIMIT 或 RELAY_CONCURRENCY。`,
  relayOrigin: (relay: string) =>
    `位于 ${relay} 的中继不为这个地址上的网页提供服务。请联系中继的管理员，把本页的来源（origin）加入 RELAY_ORIGINS。`,
  relayOther: (relay: string) => `位于 ${relay} 的中继拒绝了请求，镜像仓库没有收到它。原因见“详细信息”。`,
  timeout: '镜像仓库响应超时。请重试；网络较慢时，使用离镜像仓库更近的中继会有帮助。',
  waitNoAnswer: (host: string) =>
    `${host} 没有应答：连接已建立，但对方什么也没有返回，已放弃。镜像仓库可能已停止运行或负载过高，请稍后重试。`,
  waitTooSlow: (host: string) =>
    `${host} 传输过慢（每秒不到 1 kB），已放弃。请重试；网络较慢时，使用离镜像仓库更近的中继会有帮助。`,
  waitStalling: (host: string) =>
    `${host} 的传输反复中途停止，已放弃。请重试；网络较慢时，使用离镜像仓库更近的中继会有帮助。`,
  unauthorized: '镜像仓库拒绝了这些凭据。请在“私有仓库”中检查用户名以及密码或访问令牌。',
  signIn: '镜像仓库要求登录后才能访问此仓库：请在“私有仓库”中填写用户名以及密码或访问令牌。',
  denied: '镜像仓库认得您的账号，但这个账号无权拉取此仓库。请检查名称，或申请拉取权限。',
  notFound: '镜像仓库中没有这个镜像。请检查仓库名称以及标签或摘要。',
  dockerHubDenied: (name: string) => `拉取 ${name} 被拒绝：仓库不存在，或需要先登录（docker login）。`,
  dockerHubDeniedFix:
    '名称不存在和仓库是私有的，Docker Hub 都给出同样的回答。请检查拼写（官方镜像没有命名空间：写 nginx，而不是 nginx/nginx），或在“私有仓库”中登录。',
  rateLimited: '镜像仓库正在限制请求频率。请稍后再试，或者登录（Docker Hub 允许登录用户拉取更多次）。',
  dockerHubQuota:
    'Docker Hub 以 429 TOOMANYREQUESTS（请求过多）拒绝：本网络地址的拉取配额已用完（Docker Hub 按地址统计匿名用户的拉取次数）。',
  dockerHubQuotaShared: (relay: string) =>
    `Docker Hub 以 429 TOOMANYREQUESTS（请求过多）拒绝：拉取配额已用完。所有经由位于 ${relay} 的中继访问的人共用同一个匿名配额，因为 Docker Hub 按地址统计匿名拉取次数（对共享的云服务器地址给得更少）。`,
  dockerHubQuotaAccount:
    'Docker Hub 以 429 TOOMANYREQUESTS（请求过多）拒绝：您所登录账号的拉取配额已用完。请等待配额重置，或换一个账号登录。',
  dockerHubQuotaFix: '请在“私有仓库”中用 Docker Hub 账号或个人访问令牌登录：免费账号也有自己独立的配额。',
  quotaLow: (left: number, limit: number | undefined) =>
    `Docker Hub：本网络地址的匿名拉取配额只剩 ${left} 次${limit ? `（共 ${limit} 次）` : ''}。`,
  quotaLowShared: (left: number, limit: number | undefined, relay: string) =>
    `Docker Hub：所有经由位于 ${relay} 的中继访问的人共用的匿名拉取配额只剩 ${left} 次${limit ? `（共 ${limit} 次）` : ''}。`,
  quotaLowAccount: (left: number, limit: number | undefined) =>
    `Docker Hub：您所登录账号的拉取配额只剩 ${left} 次${limit ? `（共 ${limit} 次）` : ''}。`,
  quotaResets: (resetAt: number, now: number) =>
    `配额将于 ${new Date(resetAt).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false })} 重置（${formatDuration((resetAt - now) / 1000, 'zh')}后）。`,
  quotaWindow: (seconds: number) =>
    `配额按 ${seconds % 3600 ? formatDuration(seconds, 'zh') : `${seconds / 3600} 小时`}内的拉取次数统计：在这段时间内会逐渐恢复。`,
  platformNotFound: '该镜像没有这个平台的版本。请在“平台”列表中另选一个。',
  platformList: (list: string) => `可用平台：${list}`,
  corrupt: '数据与校验和不符，因此没有保存为完整文件。请重试；如果反复出现，说明您和镜像仓库之间有东西在改动数据。',
  malformedLayer:
    '某个镜像层完整无损地到达了（校验和与镜像仓库记录的一致），但其中的 tar 归档结构有误，docker load 读取它时会失败。镜像在构建或推送时就是这样，重试没有用。“详细信息”中写明了出错的条目，请告知镜像的发布者。',
  unsupported: '该镜像使用了 Skiff 无法读取的格式。',
  badManifest: '镜像仓库返回的镜像描述无效。',
  tooLarge: '镜像仓库返回的内容超出了 Skiff 允许的大小。',
  auth: '镜像仓库的登录服务返回了 Skiff 无法使用的响应。如果使用了中继，请确认它会转发令牌服务的请求。',
  http: (status: string) => `镜像仓库返回了错误（HTTP ${status}）。请稍后再试；它返回的内容见“详细信息”。`,
  reference: '这不是有效的镜像名称。',
  saveAborted: '没有选择保存位置，因此没有下载。',
  saveFailed: '无法写入文件：浏览器中止了下载，或者磁盘已满。',
  saveStalled: (seconds: number) =>
    `浏览器已停止接收文件（${seconds} 秒内没有接收任何数据），因此下载已结束。下载文件夹中的文件不完整（即使浏览器显示已完成）：请删除它并重新下载。`,
  unknown: '发生了意外错误。',
  deniedPush:
    '镜像仓库不允许您推送到这个仓库（拒绝访问）。请检查项目和仓库名称；在“私有仓库”中用有推送权限的账号登录（在 Harbor 中：项目的“开发者”或更高角色），或申请推送权限。',
  notFoundPush: '镜像仓库中没有可推送的此项目或仓库。请检查名称；在 Harbor 中，推送前项目必须已经存在。',
  fileDamaged:
    '此文件中的某一层与其校验和不符：文件已损坏，或在保存后被改动过。未创建任何标签。请重新保存镜像，再推送新文件。',
  notArchive:
    '此文件不是 Skiff 能读取的镜像归档。请选择由 docker save、podman save、skopeo、crane 或 Skiff 生成的 .tar（也可以是 gzip 压缩的），或 Skiff 的 .zip 离线包。',
  pushTarget: '这不是可以推送到的名称。请写成 仓库地址/路径:标签，例如 harbor.corp/team/app:1.4。',
  fileUnreadable: '浏览器无法读取所选文件：它在选择之后被移动、删除或改动了。请重新选择。',
};
