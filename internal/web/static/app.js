// The page of "dream --web". It builds dream> lines from two forms, sends them to the server,
// and shows the job queue (live, from an EventSource) and the output folder's images.
// The server parses every line with the shell's own parser, so the page never judges values:
// it only spells the line and shows the server's error under the field it names.
'use strict';

const PER_PAGE = 24;

const $ = (id) => document.getElementById(id);

// What GET /api/settings answered; the line builders compare fields against its defaults.
let settings = { defaults: {}, samplers: [], samplerDefaults: {}, vaes: [], faceTools: [], faceColors: [] };

// The sampler whose defaults the steps and guidance fields were last set to (see onSampler).
let fieldsSampler = '';

// ---------------------------------------------------------------------------------------------
// Talking to the server

// How long a request may wait for its answer before the page says so: a request the browser
// cannot send (no connection free, a server that hangs) must not leave a button disabled
// and the page silent. Uploads may carry many megabytes, so they get longer.
const ANSWER_WITHIN_MS = 20000;
const UPLOAD_WITHIN_MS = 300000;

// api sends a request and reads a JSON answer. It resolves with the status and the parsed body
// for every HTTP answer (4xx included) and throws only when the server could not be reached
// or did not answer in time, so callers can tell "the server said no" from "no server".
async function api(method, url, body) {
  const within = body instanceof FormData ? UPLOAD_WITHIN_MS : ANSWER_WITHIN_MS;
  try {
    return await request(method, url, body, AbortSignal.timeout(within));
  } catch (err) {
    if (err.name === 'TimeoutError') {
      throw new Error(`the server did not answer within ${within / 1000} s; is dream still running?`);
    }
    throw err;
  }
}

async function request(method, url, body, signal) {
  const options = { method, signal, headers: { 'Content-Type': 'application/json' } };
  if (body instanceof FormData) {
    options.body = body;
    delete options.headers; // the browser writes the multipart boundary itself
  } else if (body !== undefined) {
    options.body = JSON.stringify(body);
  }
  const res = await fetch(url, options);
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    // A proxy or a crash may answer with plain text; keep its first line as the error.
    data = { error: text.split('\n')[0] || res.statusText };
  }
  return { status: res.status, data };
}

// ---------------------------------------------------------------------------------------------
// Building lines

// quoteWord writes one word so that the shell's splitter reads it back unchanged: plain words
// stay as they are (so "7000" reaches the parser as typed), others are double-quoted.
function quoteWord(s) {
  if (s !== '' && !/[\s"'\\]/.test(s)) return s;
  return '"' + s.replace(/[\\"]/g, '\\$&') + '"';
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

// differs tells whether a field's text asks for something other than the default. Numbers are
// compared as numbers so "7.50" equals 7.5; an empty field means "the default".
function differs(text, def) {
  if (text === '') return false;
  if (def === undefined || def === null) return true;
  if (NUMBER.test(text) && NUMBER.test(String(def))) return Number(text) !== Number(def);
  return text !== String(def);
}

function val(id) {
  return $(id).value.trim();
}

// samplerDefaults are the steps and guidance a line with -A name gets when it leaves them out:
// the shell's, except for samplers with their own (lcm: 4 steps at guidance 1).
function samplerDefaults(name) {
  const d = settings.defaults;
  return (settings.samplerDefaults || {})[name] || { steps: d.steps, cfg: d.cfg };
}

// generateLine spells the generation form as a dream> line, switches in the shell's order.
// Steps and guidance are compared with the chosen sampler's defaults, so a form left at
// lcm's gives "-A lcm" alone, as a line typed at the shell would.
function generateLine() {
  const d = settings.defaults;
  const own = samplerDefaults(val('sampler'));
  const parts = [quoteWord(val('prompt'))];
  const add = (sw, id, def) => {
    const v = val(id);
    if (differs(v, def)) parts.push(sw, quoteWord(v));
  };
  add('-s', 'steps', own.steps);
  const mode = $('seed-mode').value;
  if (mode === 'fixed') parts.push('-S', quoteWord(val('seed')));
  if (mode === 'last') parts.push('-S', '-1');
  add('-n', 'iterations', d.iterations);
  add('-W', 'width', d.width);
  add('-H', 'height', d.height);
  add('-C', 'cfg', own.cfg);
  add('-A', 'sampler', d.sampler);
  add('--vae', 'vae', d.vae);
  const init = val('init-image');
  if (init !== '') {
    parts.push('-I', quoteWord(init));
    add('-f', 'init-strength', d.strength);
  }
  pushUpscale(parts, 'upscale-factor', 'upscale-strength');
  const faces = val('face-strength');
  if (differs(faces, 0)) {
    parts.push('-G', quoteWord(faces));
    const tool = val('face-tool');
    add('-ft', 'face-tool', d.faceTool);
    if (tool === 'codeformer') add('-cf', 'fidelity', d.fidelity);
  }
  if ($('save-original').checked) parts.push('--save_orig');
  pushOutput(parts, 'format', 'quality');
  return parts.join(' ');
}

// pushOutput adds --format and --quality when the form gives them; left empty, the result
// gets the server's defaults (a generated image png, a fixed one its source's format).
function pushOutput(parts, formatId, qualityId) {
  if (val(formatId) !== '') parts.push('--format', quoteWord(val(formatId)));
  if (val(qualityId) !== '') parts.push('--quality', quoteWord(val(qualityId)));
}

// pushUpscale adds "-U FACTOR STRENGTH"; the strength is always spelled out, as the shell's
// own !fix lines do, so the line says exactly what will happen.
function pushUpscale(parts, factorId, strengthId) {
  const factor = val(factorId);
  if (factor === '') return;
  parts.push('-U', quoteWord(factor));
  const strength = val(strengthId);
  if (strength !== '') parts.push(quoteWord(strength));
}

// fixLine spells "!fix NAME ..." for one image. A fix has no stored defaults to fall back on,
// so the restorer (and CodeFormer's fidelity) are always named when faces are restored.
function fixLine(name) {
  const parts = ['!fix', quoteWord(name)];
  pushUpscale(parts, 'fix-upscale-factor', 'fix-upscale-strength');
  // On !fix, -W and -H are the size to upscale to; alone they stand for -U.
  if (val('fix-width') !== '') parts.push('-W', quoteWord(val('fix-width')));
  if (val('fix-height') !== '') parts.push('-H', quoteWord(val('fix-height')));
  // The network is spelled only with something to upscale, and only when the user picked one.
  if (fixUpscales() && val('fix-upscaler') !== '') parts.push('--esrgan_model', quoteWord(val('fix-upscaler')));
  const faces = val('fix-face-strength');
  if (differs(faces, 0)) {
    parts.push('-G', quoteWord(faces));
    const tool = val('fix-face-tool');
    if (tool !== '') parts.push('-ft', quoteWord(tool));
    const fidelity = val('fix-fidelity');
    if (tool === 'codeformer' && fidelity !== '') parts.push('-cf', quoteWord(fidelity));
    // --faces and --face_color are spelled only when not the defaults, as the stored command is.
    const which = val('fix-faces');
    if (which !== '' && which.toLowerCase() !== 'all') parts.push('--faces', quoteWord(which));
    const colour = val('fix-face-color');
    if (differs(colour, settings.defaults.faceColor)) parts.push('--face_color', quoteWord(colour));
  }
  pushOutput(parts, 'fix-format', 'fix-quality');
  return parts.join(' ');
}

// fixUpscales tells whether the fix form asks for an upscale: a factor or a size.
function fixUpscales() {
  return val('fix-upscale-factor') !== '' || val('fix-width') !== '' || val('fix-height') !== '';
}

// The fix form works on uploaded files when there are any, else on #fix-path. Files are sent
// on submit; once uploaded, their server-side names replace them, so a retry after a 400 on
// the line does not upload them again.
let chosenFiles = []; // File objects not sent yet
let uploaded = []; // {name, width, height} as the server stored them, not fixed yet

// fixNames is what the next !fix lines will name. Before the upload the server's name is not
// known yet; "uploads/<file name>" is the preview's best guess.
function fixNames() {
  if (uploaded.length) return uploaded.map((f) => f.name);
  if (chosenFiles.length) return chosenFiles.map((f) => 'uploads/' + f.name);
  return [val('fix-path')];
}

function updatePreviews() {
  $('generate-line').textContent = generateLine();
  $('fix-line').textContent = fixNames().map(fixLine).join('\n'); // one line per image
  // Dim the fields the line currently ignores, without disabling them.
  $('seed').classList.toggle('idle', $('seed-mode').value !== 'fixed');
  $('init-strength').classList.toggle('idle', val('init-image') === '');
  $('upscale-strength').classList.toggle('idle', val('upscale-factor') === '');
  $('fidelity').classList.toggle('idle', val('face-tool') !== 'codeformer');
  $('fix-upscale-strength').classList.toggle('idle', val('fix-upscale-factor') === '');
  $('fix-upscaler').classList.toggle('idle', !fixUpscales());
  $('fix-fidelity').classList.toggle('idle', val('fix-face-tool') !== 'codeformer');
  const fixFaces = differs(val('fix-face-strength'), 0);
  $('fix-faces').classList.toggle('idle', !fixFaces);
  $('fix-face-color').classList.toggle('idle', !fixFaces);
}

// ---------------------------------------------------------------------------------------------
// Errors

// Which field each switch of a 400 belongs to (the server names switches by their short
// name). Anything else, "" and --save_orig included, lands in the form's general error.
const GENERATE_FIELDS = {
  '-s': 'steps', '-S': 'seed', '-n': 'iterations', '-W': 'width', '-H': 'height', '-C': 'cfg',
  '-A': 'sampler', '--vae': 'vae', '-I': 'init-image', '-f': 'init-strength', '-U': 'upscale-factor',
  '-G': 'face-strength', '-ft': 'face-tool', '-cf': 'fidelity', '--format': 'format', '--quality': 'quality',
};
const FIX_FIELDS = {
  '-U': 'fix-upscale-factor', '-W': 'fix-width', '-H': 'fix-height', '-G': 'fix-face-strength', '-ft': 'fix-face-tool', '-cf': 'fix-fidelity',
  '--faces': 'fix-faces', '--face_color': 'fix-face-color', '--format': 'fix-format', '--quality': 'fix-quality',
  '--esrgan_model': 'fix-upscaler',
};

function clearErrors(form) {
  for (const el of form.querySelectorAll('.error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// showError puts the server's text, unchanged, under the field its switch belongs to.
function showError(fields, generalId, error, sw) {
  const field = Object.hasOwn(fields, sw) ? fields[sw] : undefined;
  if (field && $(field + '-error')) {
    $(field + '-error').textContent = error;
    $(field).setAttribute('aria-invalid', 'true');
  } else {
    $(generalId).textContent = error;
  }
}

// Editing a field clears its own error: the message was about the old value.
function clearFieldError(e) {
  const el = e.target;
  if (!el.id || !$(el.id + '-error')) return;
  $(el.id + '-error').textContent = '';
  el.removeAttribute('aria-invalid');
}

// submitLine posts one line, or a list of !fix lines as one job (a batch); it answers true
// when the job was queued. On failure it has already shown the error where it belongs.
async function submitLine(line, fields, generalId) {
  try {
    const { status, data } = await api('POST', 'api/jobs', Array.isArray(line) ? { lines: line } : { line });
    if (status === 202 || status === 200 || status === 201) {
      // The event stream may already have told a newer state; only a job not seen yet is drawn.
      if (data.job && !jobs.has(data.job.id)) onJob(data.job);
      return true;
    }
    showError(fields, generalId, data.error || `the server answered ${status}`, data.switch || '');
  } catch (err) {
    $(generalId).textContent = 'Could not reach the server: ' + err.message;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The forms

async function onGenerate(e) {
  e.preventDefault();
  const form = $('generate-form');
  const button = $('generate');
  if (!offered('generate')) return; // Enter in the prompt submits too; the reason is shown
  button.disabled = true; // one click, one job
  clearErrors(form);
  try {
    await submitLine(generateLine(), GENERATE_FIELDS, 'generate-error');
  } finally {
    button.disabled = !offered('generate');
  }
}

async function onFix(e) {
  e.preventDefault();
  const form = $('fix-form');
  const button = $('fix');
  button.disabled = true;
  clearErrors(form);
  try {
    if (chosenFiles.length && !(await uploadChosen())) return;
    if (uploaded.length) {
      // All the images as one job, as the shell runs a folder: one entry in the queue with
      // one count ("fixing 2/3"). On a refusal they stay, so a retry does not upload them again.
      if (await submitLine(uploaded.map((f) => fixLine(f.name)), FIX_FIELDS, 'fix-error')) uploaded = [];
      renderFileList();
    } else {
      await submitLine(fixLine(val('fix-path')), FIX_FIELDS, 'fix-error');
    }
  } finally {
    button.disabled = false;
    updatePreviews();
  }
}

// uploadChosen sends every chosen file in one multipart request.
async function uploadChosen() {
  const body = new FormData();
  for (const f of chosenFiles) body.append('file', f, f.name);
  try {
    const { status, data } = await api('POST', 'api/uploads', body);
    if (status < 200 || status > 299) {
      $('fix-error').textContent = data.error || `the upload failed (${status})`;
      return false;
    }
    uploaded = data.files || [];
    chosenFiles = [];
    $('fix-files').value = '';
    renderFileList();
    if (!uploaded.length) $('fix-error').textContent = 'The server stored none of the files.';
    return uploaded.length > 0;
  } catch (err) {
    $('fix-error').textContent = 'Could not upload: ' + err.message;
    return false;
  }
}

function chooseFiles(fileList) {
  const files = Array.from(fileList || []);
  if (!files.length) return;
  chosenFiles = files;
  uploaded = [];
  $('fix-error').textContent = '';
  renderFileList();
  updatePreviews();
}

function forgetFiles() {
  chosenFiles = [];
  uploaded = [];
  $('fix-files').value = '';
  renderFileList();
  updatePreviews();
}

// renderFileList shows what the next fix works on: chosen files with their size, or the
// uploaded names with the size the server read.
function renderFileList() {
  const items = chosenFiles.length
    ? chosenFiles.map((f) => listItem(f.name, `${Math.ceil(f.size / 1024)} KiB`))
    : uploaded.map((f) => listItem(f.name, `uploaded, ${f.width}×${f.height}`));
  $('fix-file-list').replaceChildren(...items);
  $('fix-clear-files').hidden = items.length === 0;
}

function listItem(name, detail) {
  const li = document.createElement('li');
  const small = document.createElement('small');
  small.textContent = ' ' + detail;
  li.append(name, small);
  return li;
}

function setUpDropZone() {
  const zone = $('drop-zone');
  const input = $('fix-files');
  zone.addEventListener('click', () => input.click());
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  input.addEventListener('change', () => chooseFiles(input.files));
  zone.addEventListener('dragover', (e) => {
    e.preventDefault(); // without this the browser would open the dropped file itself
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    chooseFiles(e.dataTransfer.files);
  });
}

// onSampler moves the steps and guidance fields to the new sampler's defaults when they hold
// the old one's: choosing lcm shows its 4 steps at guidance 1, and choosing another sampler
// after it brings the shell's defaults back. A value the user typed stays.
function onSampler() {
  const before = samplerDefaults(fieldsSampler);
  const after = samplerDefaults(val('sampler'));
  if (!differs(val('steps'), before.steps)) $('steps').value = String(after.steps);
  if (!differs(val('cfg'), before.cfg)) $('cfg').value = String(after.cfg);
  fieldsSampler = val('sampler');
}

// ---------------------------------------------------------------------------------------------
// Settings and models

function fillSelect(select, values) {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
}

async function loadSettings() {
  try {
    const { status, data } = await api('GET', 'api/settings');
    if (status !== 200) throw new Error(data.error || `status ${status}`);
    settings = { ...settings, ...data, defaults: data.defaults || {} };
  } catch (err) {
    $('generate-error').textContent = 'Could not load the settings: ' + err.message;
    return;
  }
  const d = settings.defaults;
  fillSelect($('sampler'), settings.samplers || []);
  fillSelect($('vae'), settings.vaes || []);
  fillSelect($('face-tool'), settings.faceTools || []);
  fillSelect($('fix-face-tool'), settings.faceTools || []);
  fillSelect($('fix-face-color'), settings.faceColors || []);
  // The first choice, empty, leaves the format to the server: png for a generated image,
  // the source's own for a fix, unless dream was started with --format.
  fillSelect($('format'), ['', ...(settings.formats || [])]);
  fillSelect($('fix-format'), ['', ...(settings.formats || [])]);
  $('format').options[0].text = 'default';
  $('fix-format').options[0].text = 'as the source';
  const q = settings.qualities || {};
  $('quality').placeholder = $('fix-quality').placeholder = Object.entries(q).map(([f, v]) => `${v} ${f}`).join(', ');
  const set = (id, v) => { if (v !== undefined) $(id).value = String(v); };
  set('steps', d.steps);
  set('iterations', d.iterations);
  set('width', d.width);
  set('height', d.height);
  set('cfg', d.cfg);
  set('sampler', d.sampler);
  fieldsSampler = val('sampler');
  set('vae', d.vae);
  set('init-strength', d.strength);
  set('upscale-strength', d.upscaleStrength);
  set('face-strength', 0);
  set('face-tool', d.faceTool);
  set('fidelity', d.fidelity);
  set('fix-upscale-strength', d.upscaleStrength);
  set('fix-face-strength', 0);
  set('fix-face-tool', d.faceTool);
  set('fix-fidelity', d.fidelity);
  set('fix-face-color', d.faceColor);
  // The limits are hints for people, not checks: the server still judges every value.
  const limits = settings.limits || {};
  if (limits.steps) $('steps').title = `${limits.steps[0]} to ${limits.steps[1]}`;
  if (limits.size) $('width').title = $('height').title = `${limits.size[0]} to ${limits.size[1]} pixels`;
  if (limits.cfg) $('cfg').title = `${limits.cfg[0]} to ${limits.cfg[1]}`;
  if (settings.maxUploadBytes) {
    $('drop-hint').textContent = `PNG, JPEG or WebP, up to ${Math.round(settings.maxUploadBytes / 1048576)} MiB each`;
  }
  if (settings.outdir) $('gallery-folder').textContent = settings.outdir;
  updatePreviews();
}

async function loadModels() {
  try {
    const { status, data } = await api('GET', 'api/models');
    $('models').textContent = status === 200 ? data.text || '' : data.error || `status ${status}`;
    if (status === 200 && data.offer) offer = data.offer;
  } catch (err) {
    $('models').textContent = 'Could not load the models: ' + err.message;
  }
}

// ---------------------------------------------------------------------------------------------
// Offering only what can run

// What GET /api/models says the forms may offer (see offer.go): for each choice whether its
// model is there, and if not, why, with the file to put in place. Until it has answered,
// everything is offered and the server judges each line, as it always does.
let offer = null;

// offered tells whether the server can generate ('generate') or run -U with dream's own
// network ('upscale').
function offered(choice) {
  return !offer || !offer[choice] || offer[choice].ok;
}

// applyOffer disables what cannot run and says why, under the field: the Generate button
// when no Stable Diffusion model is installed (and the Fix form comes first, as it is what
// the page can do), a restorer or a network whose file is missing, and the fields of -U and
// -G when nothing can serve them.
function applyOffer() {
  if (!offer) return;
  const canGenerate = offered('generate');
  $('generate').disabled = !canGenerate;
  $('generate').title = canGenerate ? '' : offer.generate.reason;
  $('generate-unavailable').textContent = canGenerate ? '' : 'Generate is off: ' + offer.generate.reason;
  if (!canGenerate) $('generate-panel').before($('fix-panel'));

  offerChoices($('face-tool'), offer.faceTools, 'face-tool-unavailable', ['face-strength', 'face-tool', 'fidelity'],
    'Face restoration is off: ');
  offerChoices($('fix-face-tool'), offer.faceTools, 'fix-face-tool-unavailable',
    ['fix-face-strength', 'fix-face-tool', 'fix-fidelity', 'fix-faces', 'fix-face-color'], 'Face restoration is off: ');

  // The prompt form's -U runs dream's own network.
  const canUpscale = offered('upscale');
  setDisabled(['upscale-factor', 'upscale-strength'], !canUpscale);
  $('upscale-factor-unavailable').textContent = canUpscale ? '' : 'Upscaling is off: ' + offer.upscale.reason;

  // The fix form's picker: dream's own network, then each one by name.
  const picker = $('fix-upscaler');
  const choices = { '': offer.upscale || { ok: true } };
  for (const name of settings.upscalers || Object.keys(offer.upscalers || {})) {
    choices[name] = (offer.upscalers || {})[name] || { ok: true };
  }
  picker.replaceChildren(...Object.keys(choices).map((name) => new Option(name, name)));
  picker.options[0].text = offer.defaultUpscaler ? `dream's default (${offer.defaultUpscaler})` : "dream's default";
  offerChoices(picker, choices, 'fix-upscale-unavailable',
    ['fix-upscale-factor', 'fix-width', 'fix-height', 'fix-upscale-strength', 'fix-upscaler'], 'Upscaling is off: ');
  updatePreviews();
}

// offerChoices disables the options of select whose model is missing, names them so, and
// lists why under the field (noteId); when none is left, the fields that need one are
// disabled and the note says so.
function offerChoices(select, choices, noteId, fields, noneLeft) {
  const reasons = [];
  for (const option of select.options) {
    const choice = (choices || {})[option.value];
    if (!choice || choice.ok) continue;
    option.disabled = true;
    option.title = choice.reason;
    if (option.value) option.text = `${option.value} (missing)`;
    if (!reasons.includes(choice.reason)) reasons.push(choice.reason);
  }
  if (select.selectedOptions[0] && select.selectedOptions[0].disabled) {
    const usable = [...select.options].find((o) => !o.disabled);
    if (usable) select.value = usable.value;
  }
  const none = [...select.options].every((o) => o.disabled);
  setDisabled(fields, none);
  $(noteId).textContent = (none ? noneLeft : '') + reasons.join('\n');
}

function setDisabled(ids, disabled) {
  for (const id of ids) $(id).disabled = disabled;
}

// ---------------------------------------------------------------------------------------------
// The queue

const jobs = new Map(); // id -> JOB, as last told by the server
const jobItems = new Map(); // id -> its li
const ACTIVE = new Set(['queued', 'running']);
const KEEP_FINISHED = 50;
const seenActive = new Set(); // the jobs this page saw queued or running, for the status bar

// onJob takes one JOB (from the event stream or a POST answer) and brings its entry up to
// date. The entry is made once and then changed in place: rebuilt on every step (several a
// second), its cancel button would be replaced under the pointer, and a press and a release
// on two different buttons make no click.
function onJob(job) {
  const before = jobs.get(job.id);
  jobs.set(job.id, job);
  let li = jobItems.get(job.id);
  if (!li) {
    li = newJobItem(job.id);
    jobItems.set(job.id, li);
  }
  if (ACTIVE.has(job.state)) seenActive.add(job.id);
  updateJobItem(li, job);
  orderQueue();
  updateStatusBar();
  // A finished job wrote images, and so did each image of a batch as it ended: show them
  // even if the gallery event was missed.
  const moreResults = (job.results || []).length > ((before && before.results) || []).length;
  if (moreResults || (job.state === 'done' && (!before || before.state !== 'done'))) scheduleGalleryReload();
}

// sortedJobs: running, then queued by position, then finished newest first.
function sortedJobs() {
  const rank = (j) => (j.state === 'running' ? 0 : j.state === 'queued' ? 1 : 2);
  return [...jobs.values()].sort((a, b) => {
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    if (rank(a) === 1 && a.position !== b.position) return (a.position || 0) - (b.position || 0);
    return rank(a) === 2 ? b.id - a.id : a.id - b.id;
  });
}

function orderQueue() {
  const list = $('queue');
  let finished = 0;
  const wanted = [];
  for (const job of sortedJobs()) {
    if (!ACTIVE.has(job.state) && ++finished > KEEP_FINISHED) {
      jobs.delete(job.id); // the server forgets them too
      continue;
    }
    wanted.push(jobItems.get(job.id));
  }
  // Move only what is out of place, so a steady queue does not re-layout on every step.
  wanted.forEach((li, i) => {
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  while (list.children.length > wanted.length) {
    const extra = list.lastElementChild;
    jobItems.delete(Number(extra.dataset.id));
    extra.remove();
  }
}

// newJobItem makes the empty entry of job id: its state, place in line, source and cancel
// button, its line, progress bar and text, notes and results, filled by updateJobItem.
function newJobItem(id) {
  const li = document.createElement('li');
  li.dataset.id = id;
  const cancel = element('button', 'cancel', 'cancel');
  cancel.type = 'button';
  cancel.addEventListener('click', () => cancelJob(id, cancel));
  const head = element('div', 'job-head', '');
  head.append(element('span', 'state', ''), element('span', 'position', ''), element('span', 'source', 'shell'), cancel);
  li.append(head, element('code', 'line', ''), document.createElement('progress'),
    element('div', 'progress-text', ''), element('div', 'summary', ''), element('div', 'log', ''), element('div', 'notes', ''),
    element('div', 'results', ''));
  return li;
}

// updateJobItem shows job in its entry.
function updateJobItem(li, job) {
  const part = (selector) => li.querySelector(selector);
  li.className = `job ${job.state}`;
  part('.state').textContent = job.state;
  const position = job.state === 'queued' && job.position ? `#${job.position} in line` : '';
  part('.position').textContent = position;
  part('.position').hidden = !position;
  part('.source').hidden = job.source !== 'shell';
  part('.cancel').hidden = !ACTIVE.has(job.state);
  part('.line').textContent = job.line;

  const p = job.progress;
  const batch = job.batch;
  const bar = part('progress');
  if (batch) {
    // A batch's bar counts its images; the running image's own bar is in the text.
    bar.max = batch.total;
    bar.value = batch.done;
  } else if (p && p.total > 0) {
    bar.max = p.total;
    bar.value = p.done;
  } else if (job.state === 'done') {
    bar.max = bar.value = 1;
  } else if (job.state !== 'running') {
    bar.max = 1;
    bar.value = 0;
  } else {
    bar.removeAttribute('value'); // a running job without numbers yet: the indeterminate bar
  }
  const failed = job.state === 'failed' || job.state === 'cancelled';
  const text = failed && job.error ? job.error : (p && p.text) || (batch && batch.text) || '';
  part('.progress-text').textContent = startCountdown(job, text);
  part('.summary').textContent = summaryOf(job);
  updateLog(part('.log'), job.log || []);

  part('.notes').replaceChildren(...(job.notes || []).map((note) => element('div', 'note', note)));
  const links = [];
  for (const r of job.results || []) {
    // A file outside the output folder (a shell line's -o) is named, not linked: the page
    // serves the output folder only.
    const a = element(r.url ? 'a' : 'span', '', r.name);
    if (r.url) {
      a.href = r.url.replace(/^\//, ''); // relative, as every address of the page
      a.target = '_blank';
    } else {
      a.title = 'outside the output folder';
    }
    links.push(a, ' ');
  }
  part('.results').replaceChildren(...links);
}

// summaryOf is a finished job's time and what it wrote: "took 12.3 s · 1.4 MiB".
function summaryOf(job) {
  if (ACTIVE.has(job.state) || !job.seconds) return '';
  const parts = [`took ${durationText(job.seconds)}`];
  if (job.bytes) parts.push(sizeText(job.bytes));
  return parts.join(' · ');
}

function durationText(seconds) {
  return seconds < 60 ? `${seconds.toFixed(1)} s` : roughDuration(seconds);
}

function sizeText(bytes) {
  if (bytes < 1 << 20) return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
  if (bytes < 1 << 30) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
}

// roughDuration writes seconds as the terminal does (progress.RoughDuration): "45s",
// "3m12s", "1h05m".
function roughDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

// ---------------------------------------------------------------------------------------------
// Counting the time left down between reports

// A report may come once a minute (a large tile); in between, the times left in the running
// job's line count down once a second, as the terminal's do. The count starts from the
// report's own moment: the server says how old the report was when it sent it (progressAge),
// so the page's clock need not agree with the server's. When the report gives the task's time
// left in seconds (eta_s, or another name for it), that exact figure is counted down rather
// than the rounded one of the text.
const countdowns = new Map(); // id -> {text, eta, since}: the line as reported, and when
const TIME_LEFT = /(ETA |\(line )(\d+h\d{2}m|\d+m\d{2}s|\d+s)/g;

// startCountdown remembers a running job's line for the countdown and returns it as it reads
// now.
function startCountdown(job, text) {
  // eta_s is absent until the task has counted something (see queue.Progress).
  const eta = typeof job.progress?.eta_s === 'number' ? job.progress.eta_s : undefined;
  if (job.state !== 'running' || (eta === undefined && !text.match(TIME_LEFT))) {
    countdowns.delete(job.id);
    return text;
  }
  const c = { text, eta, since: performance.now() - (job.progressAge || 0) * 1000 };
  countdowns.set(job.id, c);
  return countedDown(c);
}

// countedDown is a countdown's line as it reads now: each time left less the time since the
// report, never below 0. The task's own ETA is the last "ETA " that is not a line's.
function countedDown(c) {
  const elapsed = (performance.now() - c.since) / 1000;
  const found = [...c.text.matchAll(TIME_LEFT)];
  let own = -1;
  found.forEach((m, i) => {
    if (m[1] === 'ETA ' && !c.text.slice(0, m.index).endsWith('line ')) own = i;
  });
  if (own < 0 && c.eta !== undefined) return `${c.text}, ETA ${roughDuration(c.eta - elapsed)}`;
  let out = '';
  let from = 0;
  found.forEach((m, i) => {
    const left = i === own && c.eta !== undefined ? c.eta : roughSeconds(m[2]);
    out += c.text.slice(from, m.index) + m[1] + roughDuration(left - elapsed);
    from = m.index + m[0].length;
  });
  return out + c.text.slice(from);
}

// roughSeconds reads "45s", "3m12s" or "1h05m".
function roughSeconds(text) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  return m ? Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0) : 0;
}

function tickCountdowns() {
  for (const [id, c] of countdowns) {
    const li = jobItems.get(id);
    const job = jobs.get(id);
    if (!li || !job || job.state !== 'running') {
      countdowns.delete(id);
      continue;
    }
    li.querySelector('.progress-text').textContent = countedDown(c);
  }
  updateStatusBar();
}

// ---------------------------------------------------------------------------------------------
// The status bar

// The job in sight at the bottom of the window, wherever the page is scrolled: the running
// one, else the next in line, else the last that this page saw run, until it is closed.
let statusClosed = 0;

function statusJob() {
  const list = sortedJobs();
  const active = list.find((j) => ACTIVE.has(j.state));
  if (active) return active;
  const last = list.find((j) => seenActive.has(j.id));
  return last && last.id !== statusClosed ? last : null;
}

// updateStatusBar shows the job's entry of the queue in short: its state, first line, bar,
// progress text (counted down) and results.
function updateStatusBar() {
  const bar = $('status-bar');
  const job = statusJob();
  const li = job && jobItems.get(job.id);
  bar.hidden = !li;
  document.body.classList.toggle('has-status', !!li);
  if (!li) return;
  bar.className = job.state;
  bar.dataset.id = job.id;
  const part = (selector) => bar.querySelector(selector);
  const lines = job.line.split('\n');
  part('.state').textContent = job.state === 'queued' && job.position ? `queued #${job.position}` : job.state;
  part('.status-line').textContent = lines[0] + (lines.length > 1 ? ` (+${lines.length - 1} more)` : '');
  part('.status-close').hidden = ACTIVE.has(job.state);
  const from = li.querySelector('progress');
  const to = part('progress');
  to.max = from.max;
  if (from.hasAttribute('value')) to.value = from.value;
  else to.removeAttribute('value');
  const summary = li.querySelector('.summary').textContent;
  const text = li.querySelector('.progress-text').textContent;
  part('.progress-text').textContent = [text, summary].filter(Boolean).join(' · ');
  // Redrawn once a second: links change only when the job's do, so a click is never lost.
  const results = li.querySelector('.results');
  if (part('.results').innerHTML !== results.innerHTML) {
    part('.results').replaceChildren(...[...results.childNodes].map((n) => n.cloneNode(true)));
  }
}

function showStatusJob() {
  const li = jobItems.get(Number($('status-bar').dataset.id));
  if (li) li.scrollIntoView({ behavior: 'smooth', block: 'center' });
}

function closeStatus() {
  statusClosed = Number($('status-bar').dataset.id);
  updateStatusBar();
}

// updateLog shows a batch's line per image and its summary. Lines only come, so only the new
// ones are added.
function updateLog(log, lines) {
  if (log.children.length > lines.length) log.replaceChildren();
  for (const line of lines.slice(log.children.length)) {
    log.append(element('div', line.startsWith('failed ') ? 'failed' : '', line));
  }
}

async function cancelJob(id, button) {
  button.disabled = true;
  try {
    const { status, data } = await api('POST', `api/jobs/${id}/cancel`);
    const known = jobs.get(id);
    if (status === 200 && data.job && (!known || ACTIVE.has(known.state))) onJob(data.job);
    else button.title = data.error || `the server answered ${status}`;
  } catch (err) {
    button.title = 'Could not reach the server: ' + err.message;
  }
  button.disabled = false;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  el.textContent = text;
  return el;
}

// ---------------------------------------------------------------------------------------------
// The event stream

// A browser opens at most six HTTP/1.1 connections to one server, and an event stream holds
// one for as long as its page is open: with six tabs open, a click would wait for a
// connection forever. So the tabs of one server share a single stream: the tab holding the
// "dream-events" lock (navigator.locks) opens it and passes every event on to the others over
// a BroadcastChannel. When that tab closes, its lock goes to another tab, which opens the
// stream. navigator.locks needs a secure context (http://127.0.0.1 is one, a LAN address
// is not); without it each tab opens its own stream, as before.
const EVENTS = 'dream-events';
let eventsChannel = null;
let isLeader = false;
let live = false;

// connectEvents joins the shared stream (or opens one) and resolves once the page has the
// queue as the server knows it.
function connectEvents() {
  return new Promise((resolve) => {
    if (!('BroadcastChannel' in window) || !navigator.locks) {
      openStream(resolve);
      return;
    }
    eventsChannel = new BroadcastChannel(EVENTS);
    eventsChannel.addEventListener('message', (e) => onShared(e.data, resolve));
    navigator.locks.request(EVENTS, () => {
      isLeader = true;
      openStream(resolve);
      return new Promise(() => {}); // held while this tab lives
    });
    // The tab holding the stream answers with what it knows (see onShared).
    eventsChannel.postMessage({ type: 'hello' });
  });
}

// onShared takes a message of the tab that holds the stream, or, in that tab, another tab's
// hello.
function onShared(m, resolve) {
  if (m.type === 'hello') {
    if (isLeader) share({ type: 'snapshot', jobs: [...jobs.values()], live });
    return;
  }
  if (isLeader) return; // a tab that has just taken over: it hears the server itself
  switch (m.type) {
    case 'snapshot':
      m.jobs.forEach(onJob);
      setLive(m.live);
      if (m.live) resolve();
      break;
    case 'live':
      setLive(m.live);
      if (m.live) resolve();
      break;
    case 'reset':
      forgetJobs();
      break;
    case 'job':
      onJob(m.job);
      break;
    case 'gallery':
      scheduleGalleryReload();
      break;
  }
}

// share passes a message on to the other tabs, when this tab holds the shared stream.
function share(m) {
  if (eventsChannel && isLeader) eventsChannel.postMessage(m);
}

// openStream opens /api/events and resolves once it is open the first time. The browser
// reconnects by itself after a drop; when the server refuses outright (the stream is closed),
// the page tries again after a pause.
function openStream(resolve) {
  let everOpen = false;
  const open = () => {
    const es = new EventSource('api/events');
    es.addEventListener('open', () => {
      if (everOpen) {
        // The server sends every job it knows on connect; start over so jobs of a
        // restarted server do not mix with the old ones, and catch up on the gallery.
        forgetJobs();
        share({ type: 'reset' });
        scheduleGalleryReload();
        share({ type: 'gallery' });
      }
      everOpen = true;
    });
    // "ready" ends the server's list of jobs: the queue is complete from here on.
    es.addEventListener('ready', () => {
      setLive(true);
      share({ type: 'live', live: true });
      resolve();
    });
    es.addEventListener('error', () => {
      setLive(false);
      share({ type: 'live', live: false });
      if (es.readyState === EventSource.CLOSED) setTimeout(open, 3000);
    });
    es.addEventListener('job', (e) => {
      const job = JSON.parse(e.data);
      onJob(job);
      share({ type: 'job', job });
    });
    es.addEventListener('gallery', () => {
      scheduleGalleryReload();
      share({ type: 'gallery' });
    });
  };
  open();
}

function forgetJobs() {
  jobs.clear();
  jobItems.clear();
  countdowns.clear();
  $('queue').replaceChildren();
  updateStatusBar();
}

function setLive(on) {
  live = on;
  const badge = $('live');
  badge.textContent = on ? 'live' : 'reconnecting…';
  badge.classList.toggle('off', !on);
}

// ---------------------------------------------------------------------------------------------
// The gallery

let galleryPage = 0;
let galleryPages = 1;
let gallerySeq = 0; // only the newest request may draw, however the answers race
let reloadTimer = 0;

// A batch finishing sends several events at once; one reload is enough.
function scheduleGalleryReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => loadGallery(galleryPage), 150);
}

async function loadGallery(page) {
  const seq = ++gallerySeq;
  let status, data;
  try {
    ({ status, data } = await api('GET', `api/gallery?page=${page}&per_page=${PER_PAGE}`));
  } catch (err) {
    if (seq === gallerySeq) $('gallery-error').textContent = 'Could not load the gallery: ' + err.message;
    return;
  }
  if (seq !== gallerySeq) return;
  if (status !== 200) {
    $('gallery-error').textContent = data.error || `the server answered ${status}`;
    return;
  }
  $('gallery-error').textContent = '';
  galleryPages = Math.max(1, Math.ceil((data.total || 0) / PER_PAGE));
  if (page >= galleryPages && page > 0) return loadGallery(galleryPages - 1); // images were removed
  galleryPage = page;
  $('gallery-page').textContent = `page ${page + 1} of ${galleryPages}`;
  $('gallery-prev').disabled = page === 0;
  $('gallery-next').disabled = page >= galleryPages - 1;

  // Keep the figures of images that did not change, so their thumbnails do not blink.
  const old = new Map();
  for (const fig of $('gallery').children) old.set(fig.dataset.key, fig);
  const figures = (data.images || []).map((img) => {
    // The source is part of the key: its compare button goes when the source does.
    const key = `${img.name}|${img.modified}|${img.command}|${img.source ? img.source.name : ''}`;
    return old.get(key) || renderImage(img, key);
  });
  $('gallery').replaceChildren(...figures);
}

function renderImage(img, key) {
  const fig = document.createElement('figure');
  fig.className = 'image';
  fig.dataset.name = img.name;
  fig.dataset.key = key;

  const link = document.createElement('a');
  link.href = img.url;
  link.target = '_blank';
  link.className = 'thumb';
  const thumb = document.createElement('img');
  thumb.src = img.thumb;
  thumb.loading = 'lazy';
  thumb.alt = img.name;
  thumb.title = `${img.width}×${img.height}`;
  link.append(thumb);

  fig.append(link, element('figcaption', '', img.name), element('code', 'command', img.command || ''));

  const actions = element('div', 'actions', '');
  const button = (cls, label, title, onClick) => {
    const b = element('button', cls, label);
    b.type = 'button';
    b.title = title;
    b.addEventListener('click', onClick);
    actions.append(b);
    return b;
  };
  if (img.kind === 'generated' && img.seed !== undefined) {
    button('use-seed', 'seed', `use seed ${img.seed}`, () => {
      $('seed-mode').value = 'fixed';
      $('seed').value = String(img.seed);
      updatePreviews();
      $('seed').focus();
    });
  }
  button('use-init', 'img2img', 'use as the img2img source', () => {
    $('init-image').value = img.name;
    updatePreviews();
    $('init-image').focus();
  });
  button('fix', 'fix…', 'upscale or restore faces', () => {
    forgetFiles(); // the user now means this image, not files chosen earlier
    $('fix-path').value = img.name;
    updatePreviews();
    $('fix-form').scrollIntoView({ behavior: 'smooth', block: 'start' });
  });
  const copy = button('copy', 'copy', 'copy the command', () => copyText(img.command, copy));
  copy.disabled = !img.command;
  if (img.kind === 'fixed' && img.source) {
    button('compare', 'compare', 'before and after', () => openCompare(img));
  }
  const download = element('a', 'download', 'download');
  download.href = img.url + '?download=1';
  download.download = img.name.split('/').pop();
  actions.append(download);
  fig.append(actions);
  return fig;
}

// copyText uses the clipboard API where the browser allows it (secure contexts only, so not
// on a plain-http LAN address) and the old selection trick elsewhere.
async function copyText(text, button) {
  let ok = false;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch { /* fall through to the old way */ }
  }
  if (!ok) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
  }
  button.textContent = ok ? 'copied' : 'copy failed';
  setTimeout(() => { button.textContent = 'copy'; }, 1200);
}

// ---------------------------------------------------------------------------------------------
// Before/after

// openCompare stacks the source under the fixed image in one box with the fixed image's
// shape; both fill it with object-fit, so a smaller source lines up with its upscale.
function openCompare(img) {
  const box = $('compare-box');
  const ratio = img.width && img.height ? img.width / img.height : 1;
  box.style.aspectRatio = String(ratio);
  box.style.width = `min(90vw, calc(75vh * ${ratio}))`;
  $('compare-before').src = img.source.url;
  $('compare-after').src = img.url;
  Object.assign(compareView, { zoom: 1, x: 0, y: 0, split: 50 });
  drawCompare();
  $('compare').hidden = false;
  $('compare-range').focus();
}

function closeCompare() {
  $('compare').hidden = true;
  $('compare-before').removeAttribute('src');
  $('compare-after').removeAttribute('src');
}

// The view: the split line at split % of the box's width (before on its left, after on its
// right, as one reads), and both images zoomed by zoom and moved by x, y pixels of the box.
const compareView = { zoom: 1, x: 0, y: 0, split: 50 };
const MAX_ZOOM = 16;

function drawCompare() {
  const box = $('compare-box');
  const v = compareView;
  box.style.setProperty('--zoom', String(v.zoom));
  box.style.setProperty('--x', `${v.x}px`);
  box.style.setProperty('--y', `${v.y}px`);
  box.style.setProperty('--split', `${v.split}%`);
  box.classList.toggle('zoomed', v.zoom > 1);
  $('compare-range').value = String(v.split);
}

// The slider under the box moves the line too (and the keyboard moves the slider).
function onCompareRange() {
  compareView.split = Number($('compare-range').value);
  drawCompare();
}

// zoomAt zooms to zoom keeping the point (px, py) of the box where it is.
function zoomAt(px, py, zoom) {
  const v = compareView;
  const z = Math.min(MAX_ZOOM, Math.max(1, zoom));
  v.x = px - ((px - v.x) * z) / v.zoom;
  v.y = py - ((py - v.y) * z) / v.zoom;
  v.zoom = z;
  keepImageInBox();
  drawCompare();
}

// keepImageInBox stops a pan at the image's edges: the zoomed image always covers the box.
function keepImageInBox() {
  const v = compareView;
  const box = $('compare-box');
  v.x = Math.min(0, Math.max(box.clientWidth * (1 - v.zoom), v.x));
  v.y = Math.min(0, Math.max(box.clientHeight * (1 - v.zoom), v.y));
}

// Pointers on the box: one drags the split line when it starts on the line (or anywhere while
// the whole image shows) and pans otherwise; two pinch to zoom.
const comparePointers = new Map(); // pointerId -> {x, y} in box pixels
let compareDrag = null; // 'split', 'pan' or 'pinch', with what it started from

function boxPoint(e) {
  const r = $('compare-box').getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

function onComparePointerDown(e) {
  if (e.button !== 0 && e.pointerType === 'mouse') return;
  const box = $('compare-box');
  box.setPointerCapture(e.pointerId);
  comparePointers.set(e.pointerId, boxPoint(e));
  if (comparePointers.size === 2) {
    const [a, b] = [...comparePointers.values()];
    compareDrag = { kind: 'pinch', distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, zoom: compareView.zoom };
    return;
  }
  const p = boxPoint(e);
  const lineX = (compareView.split / 100) * box.clientWidth;
  const onLine = Math.abs(p.x - lineX) <= (e.pointerType === 'mouse' ? 14 : 24);
  if (onLine || compareView.zoom === 1) {
    compareDrag = { kind: 'split' };
    moveSplit(p.x);
  } else {
    compareDrag = { kind: 'pan', from: p, x: compareView.x, y: compareView.y };
    box.classList.add('panning');
  }
}

function onComparePointerMove(e) {
  if (!comparePointers.has(e.pointerId) || !compareDrag) return;
  const p = boxPoint(e);
  comparePointers.set(e.pointerId, p);
  const v = compareView;
  switch (compareDrag.kind) {
    case 'pinch': {
      const [a, b] = [...comparePointers.values()];
      const zoom = (compareDrag.zoom * Math.hypot(a.x - b.x, a.y - b.y)) / compareDrag.distance;
      zoomAt((a.x + b.x) / 2, (a.y + b.y) / 2, zoom);
      break;
    }
    case 'split':
      moveSplit(p.x);
      break;
    case 'pan':
      v.x = compareDrag.x + p.x - compareDrag.from.x;
      v.y = compareDrag.y + p.y - compareDrag.from.y;
      keepImageInBox();
      drawCompare();
      break;
  }
}

function onComparePointerUp(e) {
  comparePointers.delete(e.pointerId);
  $('compare-box').classList.remove('panning');
  compareDrag = null; // a pinch that loses a finger does not turn into a pan
}

function moveSplit(x) {
  compareView.split = Math.round(Math.min(100, Math.max(0, (x / $('compare-box').clientWidth) * 100)) * 10) / 10;
  drawCompare();
}

function onCompareWheel(e) {
  e.preventDefault(); // the page behind must not scroll
  const p = boxPoint(e);
  const lines = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1; // a line or a page in pixels
  zoomAt(p.x, p.y, compareView.zoom * Math.exp(-e.deltaY * lines * 0.002));
}

function resetCompareZoom() {
  Object.assign(compareView, { zoom: 1, x: 0, y: 0 });
  drawCompare();
}

function setUpCompare() {
  const box = $('compare-box');
  box.addEventListener('pointerdown', onComparePointerDown);
  box.addEventListener('pointermove', onComparePointerMove);
  box.addEventListener('pointerup', onComparePointerUp);
  box.addEventListener('pointercancel', onComparePointerUp);
  box.addEventListener('wheel', onCompareWheel, { passive: false });
  box.addEventListener('dblclick', resetCompareZoom);
  $('compare-range').addEventListener('input', onCompareRange);
  $('compare-reset').addEventListener('click', resetCompareZoom);
  $('compare-close').addEventListener('click', closeCompare);
  $('compare').addEventListener('click', (e) => { if (e.target === $('compare')) closeCompare(); });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('compare').hidden) closeCompare();
  });
}

// ---------------------------------------------------------------------------------------------
// Start

function start() {
  for (const form of [$('generate-form'), $('fix-form')]) {
    form.addEventListener('input', updatePreviews);
    form.addEventListener('change', updatePreviews);
    form.addEventListener('input', clearFieldError);
  }
  // The select is the event's target, so this runs before the form's change listener and
  // the preview shows the fields it moves.
  $('sampler').addEventListener('change', onSampler);
  $('generate-form').addEventListener('submit', onGenerate);
  $('fix-form').addEventListener('submit', onFix);
  // Enter sends the prompt, like the shell; Shift+Enter still breaks the line.
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('generate-form').requestSubmit();
    }
  });
  setUpDropZone();
  $('fix-clear-files').addEventListener('click', forgetFiles);

  $('gallery-prev').addEventListener('click', () => loadGallery(Math.max(0, galleryPage - 1)));
  $('gallery-next').addEventListener('click', () => loadGallery(Math.min(galleryPages - 1, galleryPage + 1)));

  setUpCompare();
  $('status-bar').querySelector('.status-show').addEventListener('click', showStatusJob);
  $('status-bar').querySelector('.status-close').addEventListener('click', closeStatus);
  setInterval(tickCountdowns, 1000);

  updatePreviews();
  // The forms are filled from the settings, then what cannot run is taken out of them.
  const forms = Promise.all([loadSettings(), loadModels()]).then(applyOffer);
  // Tests (and nothing else) wait for this flag: everything the page shows has arrived once.
  Promise.all([forms, loadGallery(0), connectEvents()]).then(() => {
    window.dreamReady = true;
  });
}

start();
