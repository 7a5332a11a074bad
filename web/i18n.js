// The page's words in English and Simplified Chinese, the language chosen from the browser's and
// changed by the switch in the header (remembered in localStorage).  t(key, vars) fills {name}
// placeholders; elements carry data-i18n (text), data-i18n-title, data-i18n-alt and
// data-i18n-aria keys.  The page asks the server for errors in its own language (apiFetch); in
// Chinese, serverText() still prefers its own sentence for the details it knows (matched on the
// English, detail_en when the server translated), else the server's Chinese.
'use strict';

const I18N = {
  en: {
    'tagline': 'photos to cartoons',
    'lang.label': 'Language',
    'gauge.title': 'Planned memory of the running jobs against the room the server has for jobs',
    'gauge.text': 'memory {planned} planned of {room} · process {rss} · running {running}/{workers} · queue {queued}',
    'gauge.unreachable': 'server unreachable',
    'nomodel.title': 'No model is installed.',
    'nomodel.install': 'Install one with',
    'nomodel.restart': '(from a toonify checkout), then restart the server:',
    'tab.single': 'Single image', 'tab.batch': 'Batch', 'tab.history': 'History', 'tab.settings': 'Settings',
    'drop.single': 'Click, drop or paste a photo (PNG, JPEG, WebP)',
    'drop.batch': 'Click, drop or paste several photos',
    'p.style': 'Style', 'p.size': 'Resolution (longest side)', 'p.strength': 'Strength', 'p.format': 'Format',
    'p.mode': 'Mode', 'p.precision': 'Precision',
    'mode.hd': 'hd (faces and background at the output size)',
    'mode.official': 'official (the reference pipeline: works at 720 px, then upscales)',
    'mode.plain': 'plain (no face pass)',
    'prec.fp32': 'fp32 (exact)', 'prec.fast': 'fast (bf16)',
    'convert': 'Convert', 'cancel': 'Cancel', 'download': 'Download',
    'before': 'before', 'after': 'after', 'compare.aria': 'before/after divide',
    'batch.start': 'Convert all', 'batch.cancel': 'Cancel batch', 'batch.zip': 'Download ZIP',
    'history.refresh': 'Refresh',
    'history.hint': "Results are kept in the server's outputs directory and listed here after a restart too. Click a picture to open it full size.",
    'history.empty': 'No results yet.',
    'set.size': 'Default resolution', 'set.format': 'Default format',
    'set.maxBatch': 'Maximum batch size (1–50, about 20 advised)', 'set.timeout': 'Batch timeout (seconds)',
    'set.downgrade': 'Automatic downgrade: when a photo does not fit in memory at the chosen resolution, convert it at the largest that fits',
    'set.save': 'Save', 'set.saved': 'Saved.',
    'set.hint': 'Settings are kept in this browser.  The API the page uses is documented in the README.',
    'file.chosen': '{name} ({size})',
    'file.empty': '{name}: the file is empty; choose a photo.',
    'file.huge': '{name} is {w}×{h} ({mpx} Mpx); the limit is {limit} Mpx. Choose a smaller photo.',
    'file.side': '{name} is {w}×{h}; the limit is {limit} px per side. Choose a smaller photo.',
    'file.notimage': 'not a PNG, JPEG or WebP photo; left out',
    'state.uploading': 'uploading…', 'state.waiting': 'waiting for memory / a worker…', 'state.done': 'done',
    'state.cancelled': 'Cancelled.', 'state.queued': 'queued', 'state.running': 'running {pct}%',
    'state.failed': 'failed', 'state.ready': 'ready',
    'job.done': 'done', 'job.queued': 'queued', 'job.cancelled': 'cancelled', 'job.failed': 'failed',
    'err.retry': ' (the server suggests retrying in {s} s)',
    'err.format': ' — choose a PNG, JPEG or WebP photo.',
    'err.unreachable': 'The server cannot be reached ({msg}). Is `toonify serve` running?',
    'err.fit': 'Convert at {px} px instead',
    'err.timeout': 'The batch took longer than the timeout of {s} s (Settings tab) and was cancelled; the finished results are kept.',
    'batch.limit': 'You chose {n} photos; the maximum batch size is {max} (Settings tab). Only the first {max} are kept.',
    'batch.chosen': '{n} photos chosen',
    'batch.chosen.one': '1 photo chosen',
    'batch.progress': '{ended} of {total} finished',
    'batch.failedpart': '{n} failed',
    'batch.cancelledpart': '{n} cancelled',
    'batch.summary': '{done} done, {failed} failed, {cancelled} cancelled',
    'info.time': 'time', 'info.timev': '{run} s (model {model} s, waited {queued} s)',
    'info.input': 'input', 'info.output': 'output', 'info.scale': 'scale', 'info.resolution': 'resolution',
    'info.downgraded': ' (downgraded from {px})',
    'info.official': '{px} px (the model worked at 720 px, then the result was upscaled)',
    'info.strength': 'strength', 'info.style': 'style', 'info.planned': 'memory planned',
    'info.measured': 'memory measured', 'info.measuredv': 'heap {heap}, process peak {peak}', 'info.note': 'note',
    'card.full': 'Open full size',
    'card.delete': 'Delete', 'card.delete.aria': 'Delete the result of {name}',
    'card.delete.confirm': 'Delete the result of {name} from the server? This cannot be undone.',
    'code.invalid argument': 'The request was refused: {detail}',
    'code.unsupported format': 'This file is not a photo toonify can read (PNG, JPEG or WebP).',
    'code.corrupt or truncated data': 'The photo is damaged or incomplete.',
    'code.too large': 'The photo is too large: {detail}',
    'code.over the memory budget': 'The server does not have enough memory for this photo at this resolution.',
    'code.out of memory': 'The server is busy; try again in a few seconds.',
    'code.cancelled': 'Cancelled.',
    'code.not found': 'Not found: {detail}',
    'code.unavailable': 'The service is unavailable right now: {detail}',
    'code.invalid model file': 'The style model could not be loaded: {detail}',
    'code.internal error': 'Something went wrong on the server: {detail}',
    'code.input/output error': 'The server could not read or write a file: {detail}',
  },
  zh: {
    'tagline': '照片变卡通',
    'lang.label': '语言',
    'gauge.title': '正在运行的任务计划占用的内存，相对于服务器可用于任务的内存',
    'gauge.text': '内存 计划 {planned} / {room} · 进程 {rss} · 运行 {running}/{workers} · 排队 {queued}',
    'gauge.unreachable': '无法连接服务器',
    'nomodel.title': '尚未安装模型。',
    'nomodel.install': '请用',
    'nomodel.restart': '（在 toonify 源码目录中）安装一个模型，然后重启服务：',
    'tab.single': '单张图片', 'tab.batch': '批量处理', 'tab.history': '历史记录', 'tab.settings': '设置',
    'drop.single': '点击、拖入或粘贴一张照片（PNG、JPEG、WebP）',
    'drop.batch': '点击、拖入或粘贴多张照片',
    'p.style': '风格', 'p.size': '分辨率（长边）', 'p.strength': '强度', 'p.format': '格式',
    'p.mode': '模式', 'p.precision': '精度',
    'mode.hd': '高清（人脸和背景都按输出尺寸处理）',
    'mode.official': '官方（参考流程：先按 720 像素处理，再放大）',
    'mode.plain': '普通（不单独处理人脸）',
    'prec.fp32': 'fp32（精确）', 'prec.fast': '快速（bf16）',
    'convert': '转换', 'cancel': '取消', 'download': '下载',
    'before': '原图', 'after': '卡通', 'compare.aria': '原图与卡通的分界',
    'batch.start': '全部转换', 'batch.cancel': '取消批量任务', 'batch.zip': '下载 ZIP',
    'history.refresh': '刷新',
    'history.hint': '结果保存在服务器的输出目录中，服务重启后仍会列在这里。点击图片可查看原尺寸大图。',
    'history.empty': '还没有结果。',
    'set.size': '默认分辨率', 'set.format': '默认格式',
    'set.maxBatch': '单次批量上限（1–50 张，建议 20 张左右）', 'set.timeout': '批量超时（秒）',
    'set.downgrade': '自动降级：照片在所选分辨率下内存不够时，改用能容纳的最大分辨率转换',
    'set.save': '保存', 'set.saved': '已保存。',
    'set.hint': '设置保存在本浏览器中。页面所用的 API 见 README。',
    'file.chosen': '{name}（{size}）',
    'file.empty': '{name}：文件是空的，请选择一张照片。',
    'file.huge': '{name} 的尺寸为 {w}×{h}（{mpx} 百万像素），超过了 {limit} 百万像素的上限。请选择小一些的照片。',
    'file.side': '{name} 的尺寸为 {w}×{h}，每边最多 {limit} 像素。请选择小一些的照片。',
    'file.notimage': '不是 PNG、JPEG 或 WebP 照片，已略过',
    'state.uploading': '正在上传…', 'state.waiting': '正在等待内存或空闲的处理线程…', 'state.done': '完成',
    'state.cancelled': '已取消。', 'state.queued': '排队中', 'state.running': '处理中 {pct}%',
    'state.failed': '失败', 'state.ready': '待转换',
    'job.done': '完成', 'job.queued': '排队中', 'job.cancelled': '已取消', 'job.failed': '失败',
    'err.retry': '（服务器建议 {s} 秒后重试）',
    'err.format': '',
    'err.unreachable': '无法连接服务器（{msg}）。toonify serve 是否在运行？',
    'err.fit': '改用 {px} 像素转换',
    'err.timeout': '批量任务超过了 {s} 秒的时限（见“设置”），已取消；已完成的结果会保留。',
    'batch.limit': '你选了 {n} 张照片，单次批量上限为 {max} 张（见“设置”），只保留前 {max} 张。',
    'batch.chosen': '已选择 {n} 张照片',
    'batch.chosen.one': '已选择 1 张照片',
    'batch.progress': '已完成 {ended}/{total}',
    'batch.failedpart': '{n} 张失败',
    'batch.cancelledpart': '{n} 张已取消',
    'batch.summary': '完成 {done} 张，失败 {failed} 张，取消 {cancelled} 张',
    'info.time': '耗时', 'info.timev': '{run} 秒（模型 {model} 秒，排队 {queued} 秒）',
    'info.input': '输入', 'info.output': '输出', 'info.scale': '缩放', 'info.resolution': '分辨率',
    'info.downgraded': '（由 {px} 降级）',
    'info.official': '{px} 像素（模型按 720 像素处理，结果再放大）',
    'info.strength': '强度', 'info.style': '风格', 'info.planned': '计划内存',
    'info.measured': '实测内存', 'info.measuredv': '堆 {heap}，进程峰值 {peak}', 'info.note': '备注',
    'card.full': '查看原图',
    'card.delete': '删除', 'card.delete.aria': '删除 {name} 的结果',
    'card.delete.confirm': '确定从服务器删除 {name} 的结果吗？此操作无法撤销。',
    'code.invalid argument': '请求被拒绝：{detail}',
    'code.unsupported format': '无法读取这个文件，请选择 PNG、JPEG 或 WebP 照片。',
    'code.corrupt or truncated data': '照片已损坏或不完整。',
    'code.too large': '照片太大：{detail}',
    'code.over the memory budget': '服务器内存不足，无法按这个分辨率转换这张照片。',
    'code.out of memory': '服务器正忙，请几秒后再试。',
    'code.cancelled': '已取消。',
    'code.not found': '找不到：{detail}',
    'code.unavailable': '服务暂时不可用：{detail}',
    'code.invalid model file': '风格模型无法加载：{detail}',
    'code.internal error': '服务器出错了：{detail}',
    'code.input/output error': '服务器读写文件失败：{detail}',
  },
};

// Chinese for the server details the page knows (src/service/jobs.c, image.c), tried in order.
const ZH_DETAILS = [
  [/^(.*) is not a photo toonify can read \(PNG, JPEG or WebP\)/, (m) => `无法读取 ${m[1]}：它不是 toonify 能处理的照片，请选择 PNG、JPEG 或 WebP 照片。`],
  [/image is (\d+)x(\d+) \(([\d.]+) Mpx\), the limit is ([\d.]+) Mpx/, (m) => `照片尺寸为 ${m[1]}×${m[2]}（${m[3]} 百万像素），超过了 ${m[4]} 百万像素的上限。`],
  [/this (\d+)x(\d+) photo (?:at (\d+) px needs|needs) ([\d.]+ [KMG]B).*?(?:(\d+) px would fit|no output size fits)/,
    (m) => `这张 ${m[1]}×${m[2]} 的照片需要 ${m[4]} 内存，超出服务器的限制；` +
      (m[5] ? `改用 ${m[5]} 像素即可，或在“设置”中开启自动降级。` : '任何输出尺寸都放不下。')],
  [/the queue is full/, () => '队列已满，请几秒后再试。'],
  [/the server is shutting down/, () => '服务器正在关闭。'],
  [/^no image in the request/, () => '请求中没有图片。'],
  [/^unknown style '(.*)'/, (m) => `没有名为“${m[1]}”的风格。`],
  [/^cancelled$/, () => '已取消。'],
];

const LANGS = ['zh', 'en'];
let lang = (() => {
  const saved = localStorage.getItem('toonify.lang');
  if (LANGS.includes(saved)) return saved;
  const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en']);
  const first = wanted.map((l) => String(l).toLowerCase()).find((l) => /^(zh|en)\b/.test(l));
  return first && first.startsWith('zh') ? 'zh' : 'en';
})();

// With vars.n == 1, the key's '.one' form is used where the language has one.
function t(key, vars) {
  if (vars && vars.n === 1 && key + '.one' in I18N[lang]) key += '.one';
  const table = key in I18N[lang] ? I18N[lang] : I18N.en;
  const s = key in table ? table[key] : key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

// The text to show for an error the API gave: {error: code, detail: English sentence}.
function serverText(code, detail, detailEn) {
  if (lang === 'en') return detail || code;
  for (const [re, fn] of ZH_DETAILS) {
    const m = re.exec(detailEn || detail || '');
    if (m) return fn(m);
  }
  const k = 'code.' + code;
  return k in I18N.zh ? t(k, { detail: detail || '' }) : detail || code;
}

function applyI18n() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  document.querySelectorAll('[data-i18n-alt]').forEach((el) => { el.alt = t(el.dataset.i18nAlt); });
  document.querySelectorAll('[data-i18n-aria]').forEach((el) => el.setAttribute('aria-label', t(el.dataset.i18nAria)));
}

function setLang(l) {
  lang = LANGS.includes(l) ? l : 'en';
  localStorage.setItem('toonify.lang', lang);
  applyI18n();
}
