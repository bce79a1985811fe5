/** The Push view (简体中文). */
import type { Messages } from '../en.ts';

export const push: Messages['push'] = {
  title: '把保存的镜像推送到镜像仓库',
  intro:
    '选择由 docker save、podman save、skopeo、crane 或 Skiff 生成的 tar（也可以是 gzip 压缩的），或 Skiff 的 .zip 离线包——也可以直接拖放到页面上。文件边读边推送，不会整个载入内存。',
  file: 'Tar 文件',
  reading: '正在读取归档…',
  holds: (n: number, format: string) => `此 ${format} 文件包含 ${n} 个镜像`,
  untagged: '（无标签）',
  layers: (n: number) => `${n} 层`,
  imageId: '镜像 ID',
  target: '推送到',
  targetHint: '仓库/路径:标签，例如 harbor.corp/team/app:1.4',
  compress: '推送时用 gzip 压缩未压缩的层（与 docker push 相同）',
  compressHint: '取消勾选则按文件中的原样推送。两种方式镜像 ID 都不变。',
  signIn: (registry: string) => `登录 ${registry}`,
  start: '推送',
  pushing: '正在推送',
  state: {
    waiting: '等待中',
    checking: '检查中',
    uploading: '上传中',
    exists: '已存在',
    mounted: '已挂载',
    done: '完成',
    shared: '共用',
  } as Record<string, string>,
  pushed: '已推送',
  digest: '清单摘要',
  pullWith: '拉取命令',
  summary: (uploaded: number, existing: number, mounted: number) =>
    `上传 ${uploaded} 个，仓库中已有 ${existing} 个，挂载 ${mounted} 个`,
  cancelled: '已取消。尚未推送清单的镜像不会创建标签。',
  failed: '推送失败',
  tampered: '此文件中的某一层与其摘要不符：文件已损坏或被改动。未创建任何标签。',
  notArchive: '此文件不是 Skiff 能读取的镜像归档。',
};
