#!/usr/bin/env python
"""Prepare the all-in-one restoration benchmarks as folders of pairs (one sub-command each).

Usage:
    python tools/dataset_converters/prepare_allinone.py DATASET --src ARCHIVE_OR_DIR
        [--out data/allinone] [--sha256 HEX] [--remove-extracted] [dataset options]
    python tools/dataset_converters/prepare_allinone.py DATASET --download [--out ...]
    python tools/dataset_converters/prepare_allinone.py DATASET --help

DATASET is one of bsd400, wed, bsd68, rain100l, rain13k, reside-ots, sots-outdoor, gopro,
lol, sidd, rtts. Each writes ``OUT/<set>/<split>/lq/`` and ``OUT/<set>/<split>/gt/``
(degraded and clean images with the same stem, so ``PairedFolderDataset(match='same')``
reads them; RESIDE keeps its own names, read with ``match='reside'``), or ``gt/`` alone
for the clean-only training sets (BSD400, WED: noise is added on the fly). docs/user_guides/data.md,
section "All-in-one benchmark data", lists every layout.

``--src`` is the downloaded archive (.zip, .tar, .tar.gz; .rar/.7z when ``unrar``, ``7z``
or ``bsdtar`` is installed) or the folder it was extracted to. Archives are extracted to
``OUT/.extracted/``; nothing is ever written into ``--src`` (an ``--out`` inside it is
refused). PNG and JPEG files are copied byte for byte after a full decode (a file that
does not decode is reported as ``path: problem`` and left out; the exit code is then 1);
other formats (BMP, TIFF) are written as PNG. Interrupted? Run the same command again:
every output already written whose SHA-256 matches the record in
``OUT/<set>/.prepare_allinone.jsonl`` (and that was made by the same recipe) is kept, the
rest is done; a second complete run writes nothing.

Checksums: none of these datasets' pages publishes a SHA-256 of its archive (as far as
this tool's authors know), so none is built in and none is made up. Pass ``--sha256`` to
have an archive checked before it is used; ``--download`` prints the SHA-256 of what it
fetched, to be recorded and passed next time.
"""
import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.datasets.image_files import (ImageFileError, decode_image,  # noqa: E402
                                                read_bytes, scan_images, sniff_image_format)

PROG = 'prepare_allinone'
RECORD = '.prepare_allinone.jsonl'
#: RTTS's five classes, in COCO's relative order (so COCO-trained detectors' labels map
#: one to one).
RTTS_CLASSES = ('person', 'bicycle', 'car', 'motorcycle', 'bus')
SIGMAS = (15, 25, 50)
#: Public archives that have been stable for years. They could not be reached from the
#: machine this tool was written on; if one has moved, download by hand and use --src.
DOWNLOADS = {
    'bsd400': 'https://github.com/cszn/DnCNN/archive/refs/heads/master.zip',
    'bsd68-gray': 'https://github.com/cszn/DnCNN/archive/refs/heads/master.zip',
    'bsd68-color': 'https://github.com/clausmichele/CBSD68-dataset/archive/refs/heads/'
                   'master.zip',
    'wed': 'https://ece.uwaterloo.ca/~k29ma/dataset/exploration_database_and_code.rar',
    'gopro': 'https://cv.snu.ac.kr/~snah/Deblur/dataset/GOPRO_Large.zip',
}


class PrepareError(Exception):
    """A problem that stops the run; printed as one line (exit code 2)."""


# --------------------------------------------------------------------------- writing
@dataclass
class Output:
    """One file to write.

    Args:
        rel (str): Path under ``--out`` (``rain100l/test/lq/001.png``).
        src (Path, optional): A source image to copy (PNG / JPEG byte for byte, other
            formats as PNG). Defaults to None.
        make (Callable[[], np.ndarray], optional): Makes the pixels ((H, W) grey or
            (H, W, 3) RGB uint8) to write as PNG, instead of ``src``. Defaults to None.
        recipe (str): What makes the file; a file recorded with another recipe is
            made again. Defaults to ``''`` (a copy of ``src``).
        blame (Path, optional): The source file named when ``make`` fails. Defaults to
            ``src``.
    """

    rel: str
    src: Optional[Path] = None
    make: Optional[Callable[[], np.ndarray]] = None
    recipe: str = ''
    blame: Optional[Path] = None


@dataclass
class Report:
    """What a run did.

    Args:
        written (int): Files written now.
        kept (int): Files kept from an earlier run (present, recorded, SHA-256 equal).
        problems (list[str]): One line per source file left out: ``path: problem``.
        notes (list[str]): Things said on the way.
    """

    written: int = 0
    kept: int = 0
    problems: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks.

    Args:
        path (Path): The file.

    Returns:
        str: Lower-case hex digest.
    """
    digest = hashlib.sha256()
    with Path(path).open('rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def out_name(src: Path, stem: str) -> str:
    """The output file name for a copy of ``src``: its format's extension, else PNG."""
    return stem + ('.jpg' if sniff_image_format(src) == 'jpeg' else '.png')


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of (H, W) grey or (H, W, 3) RGB uint8 pixels."""
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format='PNG')
    return buf.getvalue()


def load_pixels(path: Path) -> np.ndarray:
    """Decode an image: (H, W) uint8 if it is stored grey, else (H, W, 3) uint8 RGB.

    Raises:
        ImageFileError: The decoder's reason, without the path.
    """
    picture = decode_image(read_bytes(path))
    rgb = picture.rgb
    if rgb.dtype == np.uint16:
        rgb = (rgb / 257).round().astype(np.uint8)
    return np.ascontiguousarray(rgb[..., 0] if picture.gray else rgb)


def _payload(item: Output) -> bytes:
    if item.make is not None:
        return encode_png(item.make())
    data = read_bytes(item.src)
    picture = decode_image(data)  # the full decode finds truncated files
    if sniff_image_format(item.src) in ('png', 'jpeg'):
        return data
    rgb = picture.rgb if picture.rgb.dtype == np.uint8 else \
        (picture.rgb / 257).round().astype(np.uint8)
    return encode_png(rgb[..., 0] if picture.gray else rgb)


def _records(path: Path) -> Dict[str, dict]:
    records = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
                records[entry['file']] = entry
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by an interruption: the file is made again
    return records


def write_outputs(out: Path, outputs: Sequence[Output], report: Report,
                  progress: bool = True, desc: str = 'writing') -> None:
    """Write every output not yet written and verified; resumable, atomic per file.

    Records go to ``OUT/<first path part>/.prepare_allinone.jsonl``, one line per file
    written (``file``, ``sha256``, ``recipe``), appended and flushed as it goes.

    Args:
        out (Path): The output root.
        outputs (Sequence[Output]): What to write.
        report (Report): Updated in place.
        progress (bool): Show a tqdm bar. Defaults to True.
        desc (str): The bar's label. Defaults to ``'writing'``.
    """
    from tqdm import tqdm
    records: Dict[str, Dict[str, dict]] = {}
    for item in tqdm(outputs, desc=desc, unit='file', disable=not progress or None,
                     dynamic_ncols=True):
        set_dir = out / Path(item.rel).parts[0]
        if set_dir not in records:
            records[set_dir] = _records(set_dir / RECORD)
        recipe = item.recipe or f'copy {item.src.name} {item.src.stat().st_size}'
        dst = out / item.rel
        old = records[set_dir].get(item.rel)
        if (dst.is_file() and old is not None and old.get('recipe') == recipe
                and old.get('sha256') == sha256_file(dst)):
            report.kept += 1
            continue
        try:
            data = _payload(item)
        except ImageFileError as e:
            report.problems.append(f'{item.blame or item.src}: {e}')
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        part = dst.with_name(dst.name + '.part')
        part.write_bytes(data)
        part.replace(dst)
        entry = dict(file=item.rel, sha256=hashlib.sha256(data).hexdigest(), recipe=recipe)
        records[set_dir][item.rel] = entry
        with (set_dir / RECORD).open('a') as f:
            f.write(json.dumps(entry) + '\n')
        report.written += 1


# --------------------------------------------------------------------------- sources
def check_paths(src: Path, out: Path) -> None:
    """Refuse an ``--out`` that is ``--src`` or lies inside it.

    Raises:
        PrepareError: Naming both.
    """
    src_r, out_r = src.resolve(), out.resolve()
    if out_r == src_r or src_r in out_r.parents:
        raise PrepareError(f'refusing to write {out} inside the source {src}: choose an '
                           '--out outside it')


def download(url: str, folder: Path, sha256: Optional[str] = None,
             progress: bool = True) -> Path:
    """Download ``url`` into ``folder`` through a ``.part`` file, resuming it if possible.

    A finished file is not fetched again. An interrupted one is continued with an HTTP
    ``Range`` request where the server allows it (else started afresh).

    Args:
        url (str): What to fetch.
        folder (Path): Where the file goes (its name is the URL's last part).
        sha256 (str, optional): Expected SHA-256; a mismatch removes the file and raises.
            Defaults to None (the digest is printed, to be recorded).
        progress (bool): Show a tqdm bar. Defaults to True.

    Returns:
        Path: The downloaded file.

    Raises:
        PrepareError: On a network error or a checksum mismatch.
    """
    import urllib.error
    import urllib.request

    from tqdm import tqdm
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / url.rstrip('/').rsplit('/', 1)[-1]
    if url.startswith('https://github.com/') and '/archive/' in url:
        dst = folder / f"{url.split('/')[4]}-{dst.name}"  # master.zip -> DnCNN-master.zip
    part = dst.with_name(dst.name + '.part')
    if not dst.is_file():
        done = part.stat().st_size if part.is_file() else 0
        request = urllib.request.Request(url, headers={'User-Agent': PROG})
        if done:
            request.add_header('Range', f'bytes={done}-')
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                if done and response.status != 206:
                    done = 0  # the server ignored the range: start afresh
                total = response.headers.get('Content-Length')
                total = int(total) + done if total is not None else None
                with part.open('ab' if done else 'wb') as f, \
                        tqdm(total=total, initial=done, unit='B', unit_scale=True,
                             desc=dst.name, disable=not progress or None) as bar:
                    for chunk in iter(lambda: response.read(1 << 20), b''):
                        f.write(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError) as e:
            raise PrepareError(f'{url}: download failed ({getattr(e, "reason", e)}); run '
                               f'again to resume, or download by hand and pass --src') from e
        part.replace(dst)
    digest = sha256_file(dst)
    if sha256 is not None and digest != sha256.lower():
        dst.unlink()
        raise PrepareError(f'{dst}: sha256 {digest} does not match --sha256 {sha256}; '
                           'the file was removed')
    print(f'{dst}: sha256 {digest}')
    return dst


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            target = (dest / member).resolve()
            if dest.resolve() not in target.parents and target != dest.resolve():
                raise PrepareError(f'{archive}: member {member!r} would leave the folder')
        zf.extractall(dest)


def open_source(src: Path, out: Path, sha256: Optional[str], progress: bool) -> Path:
    """The folder to read: ``src`` itself, or ``src`` extracted under ``OUT/.extracted``.

    Args:
        src (Path): A folder or an archive.
        out (Path): The output root.
        sha256 (str, optional): Expected SHA-256 of an archive. Defaults to None.
        progress (bool): Unused for folders; kept for symmetry. Defaults to True.

    Returns:
        Path: A folder.

    Raises:
        PrepareError: Missing source, checksum mismatch, unknown or broken archive.
    """
    if not src.exists():
        raise PrepareError(f'{src}: no such file or folder')
    if src.is_dir():
        if sha256 is not None:
            raise PrepareError('--sha256 checks an archive; --src is a folder')
        return src
    if sha256 is not None:
        digest = sha256_file(src)
        if digest != sha256.lower():
            raise PrepareError(f'{src}: sha256 {digest} does not match --sha256 {sha256}')
    name = src.name
    dest = out / '.extracted' / re.sub(r'(\.tar)?\.[^.]+$', '', name)
    marker = dest / '.complete'
    stamp = f'{src.resolve()} {src.stat().st_size} {src.stat().st_mtime_ns}'
    if marker.is_file() and marker.read_text() == stamp:
        return dest
    if dest.exists():
        shutil.rmtree(dest)  # an interrupted extraction: start it again
    dest.mkdir(parents=True)
    print(f'{PROG}: extracting {src} to {dest}')
    try:
        if zipfile.is_zipfile(src):
            _extract_zip(src, dest)
        elif tarfile.is_tarfile(src):
            with tarfile.open(src) as tf:
                tf.extractall(dest, filter='data')
        elif name.lower().endswith(('.rar', '.7z')):
            tool = shutil.which('unrar') or shutil.which('7z') or shutil.which('bsdtar')
            if tool is None:
                raise PrepareError(f'{src}: a {name.rsplit(".", 1)[-1]} archive and no unrar, '
                                   '7z or bsdtar installed: extract it yourself and pass the '
                                   'folder as --src')
            cmd = {'unrar': [tool, 'x', '-o+', str(src), str(dest) + '/'],
                   '7z': [tool, 'x', '-y', f'-o{dest}', str(src)],
                   'bsdtar': [tool, '-xf', str(src), '-C', str(dest)]}[Path(tool).name]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        else:
            raise PrepareError(f'{src}: not a folder nor a zip / tar / rar / 7z archive')
    except (zipfile.BadZipFile, tarfile.TarError, subprocess.CalledProcessError,
            EOFError, OSError) as e:
        raise PrepareError(f'{src}: cannot extract ({e})') from e
    marker.write_text(stamp)
    return dest


def find_dirs(root: Path, names: Sequence[str]) -> List[Path]:
    """Folders under ``root`` (itself included) named one of ``names`` (any case),
    shallowest first."""
    wanted = {n.lower() for n in names}
    found = [p for p in [root, *root.rglob('*')] if p.is_dir() and p.name.lower() in wanted
             and not any(part.startswith('.') for part in p.relative_to(root).parts)]
    return sorted(found, key=lambda p: (len(p.parts), str(p)))


def prefer(candidates: List, key: Callable, hint: str, what: str, src: Path):
    """The one candidate, or the one whose ``key`` mentions ``hint``; else an error."""
    if len(candidates) > 1 and hint:
        hinted = [c for c in candidates if hint in str(key(c)).lower().replace('_', '-')]
        candidates = hinted or candidates
    if not candidates:
        raise PrepareError(f'{src}: no {what} found')
    if len(candidates) > 1:
        listed = ', '.join(str(key(c)) for c in candidates[:4])
        raise PrepareError(f'{src}: {len(candidates)} candidates for {what} ({listed}); '
                           'pass the right one as --src')
    return candidates[0]


def images(folder: Path, report: Report, recursive: bool = False) -> List[Path]:
    """Image files in ``folder`` (by content); misnamed or unreadable ones are problems."""
    found, problems = scan_images(folder, recursive)
    report.problems.extend(problems)
    return found


# --------------------------------------------------------------------------- datasets
def _copies(files: Sequence[Path], rel_dir: str,
            stem: Callable[[Path], str] = lambda p: p.stem) -> List[Output]:
    return [Output(f'{rel_dir}/{out_name(p, stem(p))}', src=p) for p in files]


def _pairs(pairs: Sequence[Tuple[Path, Path, str]], rel: str) -> List[Output]:
    """Outputs for (degraded, clean, output stem) triples."""
    out = []
    for lq, gt, stem in pairs:
        out.append(Output(f'{rel}/lq/{out_name(lq, stem)}', src=lq))
        out.append(Output(f'{rel}/gt/{out_name(gt, stem)}', src=gt))
    return out


def _clean_only(root: Path, report: Report, names: Sequence[str], set_name: str,
                recursive: bool) -> List[Output]:
    dirs = find_dirs(root, names)
    folder = prefer(dirs, lambda p: p, '', f'{"/".join(names)} folder', root) if dirs else root
    files = images(folder, report, recursive)
    if not files:
        raise PrepareError(f'{folder}: no images (expected a {" or ".join(names)} folder)')
    return _copies(files, f'{set_name}/train/gt')


def prepare_bsd400(root: Path, args, report: Report) -> List[Output]:
    """BSD400 (DnCNN's Train400): 400 clean 180x180 grey PNGs -> bsd400/train/gt."""
    return _clean_only(root, report, ('Train400', 'BSD400'), 'bsd400', False)


def prepare_wed(root: Path, args, report: Report) -> List[Output]:
    """WED (Waterloo Exploration): 4744 clean BMPs -> wed/train/gt (as PNG)."""
    return _clean_only(root, report, ('pristine_images',), 'wed', False)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B``, rounded (Pillow's ``L``)."""
    if rgb.ndim == 2:
        return rgb
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.clip(np.round(luma), 0, 255).astype(np.uint8)


def noise_seed(sigma: int, stem: str) -> List[int]:
    """The seed of an image's noise: ``[sigma, crc32(stem)]``; fixed per sigma and image,
    independent of the order of the run (so a resumed run makes the same files)."""
    return [int(sigma), zlib.crc32(stem.encode())]


def add_gaussian_noise(clean: np.ndarray, sigma: int, stem: str,
                       quantize: str = 'round') -> np.ndarray:
    """``clean + N(0, sigma^2)`` (0-255 scale), clipped to [0, 255], quantised to uint8.

    Args:
        clean (np.ndarray): uint8 pixels, grey or RGB (each channel gets its own noise).
        sigma (int): Standard deviation on the 0-255 scale.
        stem (str): The image's name, part of the seed (:func:`noise_seed`).
        quantize (str): ``'round'`` to the nearest level, or ``'floor'`` (numpy's
            ``astype(uint8)`` after clipping, which AirNet / PromptIR use on the fly).
            Defaults to ``'round'``.

    Returns:
        np.ndarray: The noisy copy, uint8, same shape.
    """
    rng = np.random.default_rng(noise_seed(sigma, stem))
    noisy = clean.astype(np.float64) + rng.standard_normal(clean.shape) * sigma
    noisy = np.clip(noisy, 0, 255)
    return (np.round(noisy) if quantize == 'round' else np.floor(noisy)).astype(np.uint8)


def prepare_bsd68(root: Path, args, report: Report) -> List[Output]:
    """BSD68 / CBSD68 noisy test copies at each sigma."""
    for names in (('original_png', 'original'), ('CBSD68', 'BSD68')):
        dirs = [d for d in find_dirs(root, names) if images(d, Report())]
        if dirs:
            folder = prefer(dirs, lambda p: p, '', 'BSD68 folder', root)
            break
    else:
        folder = root
    files = images(folder, report)
    if not files:
        raise PrepareError(f'{root}: no images (expected CBSD68/original_png/ or BSD68/)')
    colour = False
    for path in files:  # as the first readable original is (a bad one is reported later)
        try:
            colour = not decode_image(read_bytes(path)).gray
            break
        except ImageFileError:
            continue
    variants = {'auto': ['color' if colour else 'gray'], 'both': ['color', 'gray']}.get(
        args.variant, [args.variant])
    if 'color' in variants and not colour:
        raise PrepareError(f'{folder}: the images are grey; a colour (CBSD68) set needs '
                           'colour originals')
    outputs = []
    for variant in variants:
        prefix = 'cbsd68' if variant == 'color' else 'bsd68'
        for sigma in args.sigmas:
            rel = f'{prefix}-sigma{sigma}/test'
            for path in files:
                def clean(path=path, variant=variant):
                    pixels = load_pixels(path)
                    return to_gray(pixels) if variant == 'gray' else pixels

                def noisy(clean=clean, sigma=sigma, stem=path.stem):
                    return add_gaussian_noise(clean(), sigma, stem, args.quantize)

                tag = f'{path.name} {path.stat().st_size}'
                if variant == 'gray' and colour:
                    outputs.append(Output(f'{rel}/gt/{path.stem}.png', make=clean, blame=path,
                                          recipe=f'gray {tag}'))
                else:
                    outputs.append(Output(f'{rel}/gt/{out_name(path, path.stem)}', src=path))
                outputs.append(Output(
                    f'{rel}/lq/{path.stem}.png', make=noisy, blame=path,
                    recipe=f'gaussian sigma={sigma} seed={noise_seed(sigma, path.stem)} '
                    f'quantize={args.quantize} {variant} {tag}'))
    return outputs


RAIN_PAIRS = (('input', 'target'), ('rainy', 'norain'), ('rain', 'norain'),
              ('rainy', 'gt'), ('rain', 'gt'), ('rainy', 'clean'), ('data', 'gt'),
              ('lq', 'gt'))


def rain_stem(stem: str) -> str:
    """``rain-001``, ``norain-001``, ``norain-001x2`` -> ``001``; other stems unchanged."""
    stem = re.sub(r'^(no)?rain[-_]', '', stem, flags=re.IGNORECASE)
    return re.sub(r'x2$', '', stem)


def _folder_pairs(root: Path, couples: Sequence[Tuple[str, str]]) -> List[Tuple[Path, Path]]:
    found = []
    for lq_name, gt_name in couples:
        for lq in find_dirs(root, (lq_name, )):
            gt = next((p for p in lq.parent.iterdir() if p.is_dir()
                       and p.name.lower() == gt_name), None)
            if gt is not None and (lq, gt) not in found:
                found.append((lq, gt))
    return found


def match_pairs(lq_files: Sequence[Path], gt_files: Sequence[Path],
                key: Callable[[str], str], report: Report,
                name: Callable[[Path], str] = None) -> List[Tuple[Path, Path, str]]:
    """Pair files whose ``key(stem)`` agree; a degraded file without partner is a problem."""
    gt_by_key = {key(p.stem): p for p in gt_files}
    pairs = []
    for lq in lq_files:
        gt = gt_by_key.get(key(lq.stem))
        if gt is None:
            report.problems.append(f'{lq}: no clean partner (looked for {key(lq.stem)!r})')
            continue
        pairs.append((lq, gt, name(lq) if name else key(lq.stem)))
    return pairs


def _rain(root: Path, report: Report, hint: str, rel: str) -> List[Output]:
    couples = _folder_pairs(root, RAIN_PAIRS)
    if couples:
        lq_dir, gt_dir = prefer(couples, lambda c: c[0], hint, 'rainy/clean folder pair', root)
        lq_files, gt_files = images(lq_dir, report, True), images(gt_dir, report, True)
    else:  # RainTrainL style: rain-001.png next to norain-001.png
        flat = [p for p in images(root, report, True) if re.match(r'(no)?rain[-_]', p.stem)]
        lq_files = [p for p in flat if p.stem.lower().startswith('rain')]
        gt_files = [p for p in flat if p.stem.lower().startswith('norain')]
        if not lq_files:
            raise PrepareError(f'{root}: no rainy/clean pairs (expected input/ + target/, '
                               'rain(y)/ + norain/, or rain-*.png next to norain-*.png)')
    return _pairs(match_pairs(lq_files, gt_files, rain_stem, report), rel)


def prepare_rain100l(root: Path, args, report: Report) -> List[Output]:
    """Rain100L (test, 100 pairs) or RainTrainL (train, 200 pairs)."""
    hint = 'rain100l' if args.split == 'test' else 'train'
    return _rain(root, report, hint, f'rain100l/{args.split}')


def prepare_rain13k(root: Path, args, report: Report) -> List[Output]:
    """Rain13K (MPRNet's training mix), input/ + target/."""
    return _rain(root, report, 'rain13k', 'rain13k/train')


def _reside(root: Path, report: Report, gt_names: Sequence[str], rel: str,
            hint: str) -> List[Output]:
    hazy_dirs = find_dirs(root, ('hazy', ))
    hazy = prefer(hazy_dirs, lambda p: p, hint, 'hazy/ folder', root)
    gt_dirs = [d for d in find_dirs(hazy.parent, gt_names) if d != hazy]
    gt_dirs = [d for d in gt_dirs if not any(o in d.parents for o in gt_dirs)]  # outermost
    gt = prefer(gt_dirs, lambda p: p, '', f'{"/".join(gt_names)} folder next to {hazy}', root)
    lq_files, gt_files = images(hazy, report, True), images(gt, report, True)
    pairs = match_pairs(lq_files, gt_files, lambda s: s.split('_')[0], report,
                        name=lambda p: p.stem)
    outputs = _copies([lq for lq, _, _ in pairs], f'{rel}/lq')
    used = {id(g): g for _, g, _ in pairs}.values()
    return outputs + _copies(sorted(used), f'{rel}/gt')


def prepare_reside_ots(root: Path, args, report: Report) -> List[Output]:
    """RESIDE OTS: hazy/part*/0001_0.8_0.2.jpg + clear/.../0001.jpg."""
    return _reside(root, report, ('clear', 'clear_images', 'gt'), 'reside-ots/train', 'ots')


def prepare_sots_outdoor(root: Path, args, report: Report) -> List[Output]:
    """SOTS-outdoor: outdoor/hazy/0001_0.8_0.2.jpg + outdoor/gt/0001.png."""
    return _reside(root, report, ('gt', 'clear'), 'sots-outdoor/test', 'outdoor')


def prepare_gopro(root: Path, args, report: Report) -> List[Output]:
    """GoPro (GOPRO_Large): <split>/<sequence>/{blur,sharp}/000047.png."""
    outputs = []
    for split in args.splits:
        split_dir = prefer(find_dirs(root, (split, )), lambda p: p, 'gopro', f'{split}/ folder',
                           root)
        sequences = [d for d in sorted(split_dir.iterdir())
                     if (d / args.blur_dir).is_dir() and (d / 'sharp').is_dir()]
        if not sequences:
            raise PrepareError(f'{split_dir}: no <sequence>/{args.blur_dir}/ + sharp/ folders')
        for seq in sequences:
            pairs = match_pairs(images(seq / args.blur_dir, report),
                                images(seq / 'sharp', report), lambda s: s, report,
                                name=lambda p, seq=seq: f'{seq.name}_{p.stem}')
            outputs += _pairs(pairs, f'gopro/{split}')
    return outputs


def prepare_lol(root: Path, args, report: Report) -> List[Output]:
    """LOL: our485/{low,high} (train) and eval15/{low,high} (test)."""
    outputs = []
    for folder, split in (('our485', 'train'), ('eval15', 'test')):
        dirs = find_dirs(root, (folder, ))
        if not dirs:
            report.notes.append(f'{root}: no {folder}/ folder: no LOL {split} split')
            continue
        base = prefer(dirs, lambda p: p, '', f'{folder}/ folder', root)
        if not ((base / 'low').is_dir() and (base / 'high').is_dir()):
            raise PrepareError(f'{base}: expected low/ and high/ inside')
        pairs = match_pairs(images(base / 'low', report), images(base / 'high', report),
                            lambda s: s, report)
        outputs += _pairs(pairs, f'lol/{split}')
    if not outputs:
        raise PrepareError(f'{root}: no LOL our485/ or eval15/ folder')
    return outputs


def _load_mat(path: Path, key: str) -> np.ndarray:
    import scipy.io
    try:
        data = scipy.io.loadmat(str(path))[key]
    except NotImplementedError:  # MATLAB v7.3 (HDF5)
        try:
            import h5py
        except ImportError:
            raise PrepareError(f'{path}: a MATLAB v7.3 file; pip install h5py') from None
        with h5py.File(path, 'r') as f:
            data = np.array(f[key]).transpose()
    except (KeyError, ValueError, OSError) as e:
        raise PrepareError(f'{path}: cannot read {key!r} ({e})') from e
    if data.ndim != 5 or data.shape[-1] != 3:
        raise PrepareError(f'{path}: {key} has shape {data.shape}, not (N, B, H, W, 3)')
    return data


def prepare_sidd(root: Path, args, report: Report) -> List[Output]:
    """SIDD-Medium sRGB: Data/<scene>/*_NOISY/GT_SRGB_*.PNG (train) and the validation
    blocks ValidationNoisyBlocksSrgb.mat / ValidationGtBlocksSrgb.mat (val)."""
    outputs = []
    data_dirs = [d for d in find_dirs(root, ('Data', ))
                 if any(d.glob('*/*_NOISY_SRGB_*'))]
    if data_dirs:
        data = prefer(data_dirs, lambda p: p, 'medium', 'SIDD Data/ folder', root)
        for scene in sorted(d for d in data.iterdir() if d.is_dir()):
            files = images(scene, report)
            noisy = [p for p in files if '_NOISY_' in p.stem.upper()]
            clean = [p for p in files if '_GT_' in p.stem.upper()]
            pairs = match_pairs(noisy, clean, lambda s: s.upper().replace('_NOISY_', '_GT_'),
                                report, name=lambda p, scene=scene:
                                f'{scene.name}_{p.stem.rsplit("_", 1)[-1]}')
            outputs += _pairs(pairs, 'sidd/train')
    mats = {key: sorted(root.rglob(f'{key}.mat')) for key in
            ('ValidationNoisyBlocksSrgb', 'ValidationGtBlocksSrgb')}
    if all(mats.values()):
        noisy_mat, gt_mat = mats['ValidationNoisyBlocksSrgb'][0], mats['ValidationGtBlocksSrgb'][0]
        cache: Dict[str, np.ndarray] = {}

        def block(key: str, path: Path, i: int, j: int) -> np.ndarray:
            if key not in cache:
                cache[key] = _load_mat(path, key)
            return cache[key][i, j]

        shape = _load_mat(gt_mat, 'ValidationGtBlocksSrgb').shape
        for i in range(shape[0]):
            for j in range(shape[1]):
                for sub, key, path in (('lq', 'ValidationNoisyBlocksSrgb', noisy_mat),
                                       ('gt', 'ValidationGtBlocksSrgb', gt_mat)):
                    outputs.append(Output(
                        f'sidd/val/{sub}/{i:02d}_{j:02d}.png', blame=path,
                        make=lambda k=key, p=path, i=i, j=j: block(k, p, i, j),
                        recipe=f'{key} block {i} {j} {path.stat().st_size}'))
    if not outputs:
        raise PrepareError(f'{root}: no SIDD Data/<scene>/*_NOISY_SRGB_*.PNG nor '
                           'ValidationNoisyBlocksSrgb.mat + ValidationGtBlocksSrgb.mat')
    return outputs


def prepare_rtts(root: Path, args, report: Report) -> List[Output]:
    """RTTS: JPEGImages/ + Annotations/ -> rtts/test/images + rtts/test/rtts_coco.json."""
    from uniremoval_mm.datasets.converters import voc_to_coco
    img_dir = prefer(find_dirs(root, ('JPEGImages', )), lambda p: p, 'rtts',
                     'JPEGImages/ folder', root)
    xml_dir = prefer(find_dirs(img_dir.parent, ('Annotations', )), lambda p: p, '',
                     f'Annotations/ folder next to {img_dir}', root)
    coco, conversion = voc_to_coco(xml_dir, img_dir, RTTS_CLASSES, progress=args.progress)
    report.problems.extend(p for p in conversion.problems if 'clipped' not in p)
    report.notes.extend(conversion.notes + [p for p in conversion.problems if 'clipped' in p])
    names = {entry['file_name'] for entry in coco['images']}
    files = [img_dir / name for name in sorted(names)]
    args.rtts_json = coco  # written after the images (see main)
    report.notes.append(f'RTTS: {conversion.images} images, {conversion.boxes} boxes (' + ', '.join(
        f'{k} {v}' for k, v in conversion.class_counts.most_common()) + ')')
    return [Output(f'rtts/test/images/{p.name}', src=p) for p in files]


# --------------------------------------------------------------------------- command line
DATASETS = {
    'bsd400': (prepare_bsd400, 'bsd400/train/gt/ (clean only; noise is added on the fly)',
               'DnCNN\'s Train400 folder (400 grey 180x180 PNGs), e.g. from the DnCNN '
               'repository archive'),
    'wed': (prepare_wed, 'wed/train/gt/ (clean only, BMP written as PNG)',
            'exploration_database_and_code/pristine_images/ (4744 BMPs)'),
    'bsd68': (prepare_bsd68, 'cbsd68-sigma{15,25,50}/test/{lq,gt}/ (colour) or '
              'bsd68-sigma{15,25,50}/test/{lq,gt}/ (grey); match same',
              'CBSD68/original_png/ (68 colour PNGs, CBSD68-dataset repository) or '
              'BSD68/ (68 grey PNGs, DnCNN testsets/BSD68)'),
    'rain100l': (prepare_rain100l, 'rain100l/{test,train}/{lq,gt}/; match same',
                 'Rain100L (100 test pairs) or RainTrainL (200): input/ + target/, '
                 'rain(y)/ + norain/, or rain-001.png next to norain-001.png'),
    'rain13k': (prepare_rain13k, 'rain13k/train/{lq,gt}/; match same',
                'Rain13K train set (MPRNet): input/ + target/'),
    'reside-ots': (prepare_reside_ots, 'reside-ots/train/{lq,gt}/; match reside '
                   '(0001_0.8_0.2.jpg -> 0001.jpg)',
                   'RESIDE-beta OTS: hazy/part*/0001_0.8_0.2.jpg + clear/clear_images/0001.jpg'),
    'sots-outdoor': (prepare_sots_outdoor, 'sots-outdoor/test/{lq,gt}/; match reside',
                     'RESIDE SOTS: outdoor/hazy/0001_0.8_0.2.jpg + outdoor/gt/0001.png'),
    'gopro': (prepare_gopro, 'gopro/{train,test}/{lq,gt}/<sequence>_<frame>.png; match same',
              'GOPRO_Large: {train,test}/<sequence>/{blur,blur_gamma,sharp}/000047.png'),
    'lol': (prepare_lol, 'lol/{train,test}/{lq,gt}/; match same',
            'LOLdataset: our485/{low,high}/ (train) + eval15/{low,high}/ (test)'),
    'sidd': (prepare_sidd, 'sidd/train/{lq,gt}/<scene>_<NNN>.png, sidd/val/{lq,gt}/'
             '<ii>_<jj>.png (the 40x32 256-px validation blocks); match same',
             'SIDD_Medium_Srgb/Data/<scene>/*_{NOISY,GT}_SRGB_*.PNG and/or '
             'ValidationNoisyBlocksSrgb.mat + ValidationGtBlocksSrgb.mat'),
    'rtts': (prepare_rtts, 'rtts/test/images/ + rtts/test/rtts_coco.json (classes: '
             + ', '.join(RTTS_CLASSES) + ', in that id order)',
             'RESIDE-beta RTTS: JPEGImages/ + Annotations/ (Pascal-VOC XML)'),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='prepare_allinone.py', description=__doc__.splitlines()[0],
        epilog='Run "prepare_allinone.py DATASET --help" for a dataset\'s source and layout.')
    subs = parser.add_subparsers(dest='dataset', required=True, metavar='DATASET')
    for name, (_, layout, source) in DATASETS.items():
        url = DOWNLOADS.get(name) or DOWNLOADS.get(f'{name}-color')
        desc = (f'Source (--src): {source}. Writes OUT/{layout}. ' + (
            f'--download fetches {url}' + (f' (colour; --variant gray: '
                                           f'{DOWNLOADS["bsd68-gray"]})' if name == 'bsd68'
                                           else '') + '.' if url else
            'No stable public URL (the archive is behind a form or a file host): download '
            'it by hand and pass --src.'))
        sub = subs.add_parser(name, help=layout, description=desc)
        sub.add_argument('--src', type=Path, help='the downloaded archive or the folder it '
                         'was extracted to (never written into)')
        sub.add_argument('--out', type=Path, default=Path('data/allinone'),
                         help='output root (default: data/allinone)')
        sub.add_argument('--sha256', help='expected SHA-256 of the archive (no official '
                         'checksum is published for this dataset, so none is built in'
                         + ('; the download prints the one it fetched)' if url else ')'))
        if url:
            sub.add_argument('--download', action='store_true',
                             help='fetch the archive into OUT/downloads/ first (resumable)')
        sub.add_argument('--remove-extracted', action='store_true',
                         help='delete OUT/.extracted/<archive>/ after a run without problems')
        sub.add_argument('--no-progress', dest='progress', action='store_false',
                         help='no progress bars')
        if name == 'bsd68':
            sub.add_argument('--sigmas', type=int, nargs='+', default=list(SIGMAS),
                             help='noise levels on the 0-255 scale (default: 15 25 50); the '
                             'noise of image STEM at sigma S is seeded [S, crc32(STEM)]')
            sub.add_argument('--variant', choices=('auto', 'color', 'gray', 'both'),
                             default='auto', help='colour CBSD68 and/or grey BSD68 (grey '
                             'from colour by BT.601 luma); auto: as the originals are')
            sub.add_argument('--quantize', choices=('round', 'floor'), default='round',
                             help='noisy values to uint8: round (default) or floor '
                             '(AirNet / PromptIR\'s astype(uint8) on the fly)')
        if name == 'rain100l':
            sub.add_argument('--split', choices=('test', 'train'), default='test',
                             help='test: Rain100L (default); train: RainTrainL')
        if name == 'gopro':
            sub.add_argument('--splits', nargs='+', choices=('train', 'test'),
                             default=['train', 'test'])
            sub.add_argument('--blur-dir', choices=('blur', 'blur_gamma'), default='blur',
                             help='degraded frames: blur (the standard, default) or '
                             'blur_gamma')
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    prepare = DATASETS[args.dataset][0]
    report = Report()
    try:
        if getattr(args, 'download', False):
            if args.src is not None:
                parser.error('--download and --src exclude each other')
            key = args.dataset if args.dataset != 'bsd68' else \
                f'bsd68-{"gray" if args.variant == "gray" else "color"}'
            args.src = download(DOWNLOADS[key], args.out / 'downloads', args.sha256,
                                args.progress)
        elif args.src is None:
            parser.error('--src is required (or --download where the dataset has one)')
        check_paths(args.src, args.out)
        root = open_source(args.src, args.out, None if getattr(args, 'download', False)
                           else args.sha256, args.progress)
        outputs = prepare(root, args, report)
        targets = {Path(o.rel).parts[0] for o in outputs}
        for target in targets:
            if (args.out / target).resolve() in args.src.resolve().parents:
                raise PrepareError(f'{args.src} lies inside the output {args.out / target}')
        write_outputs(args.out, outputs, report, args.progress, args.dataset)
        coco = getattr(args, 'rtts_json', None)
        if coco is not None:
            dst = args.out / 'rtts/test/rtts_coco.json'
            text = json.dumps(coco)
            if not dst.is_file() or dst.read_text() != text:
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.with_suffix('.part').write_text(text)
                dst.with_suffix('.part').replace(dst)
                report.written += 1
            else:
                report.kept += 1
    except (PrepareError, FileNotFoundError) as e:
        print(f'{PROG}: {e}', file=sys.stderr)
        return 2
    for line in report.notes:
        print(f'{PROG}: note: {line}')
    for line in report.problems:
        print(f'{PROG}: {line}', file=sys.stderr)
    print(f'{args.dataset}: {report.written} file(s) written, {report.kept} kept from an earlier '
          f'run, {len(report.problems)} problem(s); output in {args.out}')
    if args.remove_extracted and not report.problems:
        extracted = args.out / '.extracted'
        if extracted in Path(root).parents:
            shutil.rmtree(root)
    return 1 if report.problems else 0


if __name__ == '__main__':
    sys.exit(main())
