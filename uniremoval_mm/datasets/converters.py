"""Converting detection annotations to COCO: Pascal-VOC XML, and RTTS-style box lists."""
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .image_files import ImageFileError, image_header, orient_box, read_image, sniff_image_format

BOX_POLICIES = ('clip', 'drop', 'keep')
IMAGE_CHECKS = ('decode', 'header')


@dataclass
class ConversionReport:
    """What a conversion did, and every problem it met, file by file.

    Args:
        images (int): Images written.
        boxes (int): Boxes written.
        problems (list[str]): One line per problem: ``path: what is wrong``.
        class_counts (Counter): Boxes written per class.
        notes (list[str]): One line per thing fixed on the way that is no problem
            (a missing ``<size>`` read from the image, boxes turned by the EXIF
            orientation): ``path: what was done``.
    """

    images: int = 0
    boxes: int = 0
    problems: List[str] = field(default_factory=list)
    class_counts: Counter = field(default_factory=Counter)
    notes: List[str] = field(default_factory=list)

    def problem(self, path, message: str) -> None:
        """Record a problem with ``path``."""
        self.problems.append(f'{path}: {message}')

    def note(self, path, message: str) -> None:
        """Record a note about ``path``."""
        self.notes.append(f'{path}: {message}')


def _find_image(img_dir: Path, filename: Optional[str], stem: str) -> Optional[Path]:
    """The image an annotation names, else any image file with the annotation's stem."""
    named = img_dir / filename if filename else None
    if named is not None and (named.exists() or named.is_symlink()):
        return named  # even if it cannot be read: the check says why
    for candidate in sorted(img_dir.glob(f'{stem}.*')):
        if sniff_image_format(candidate):
            return candidate
    return None


def fix_box(box: Sequence[float], width: int, height: int,
            policy: str) -> Tuple[Optional[List[float]], str]:
    """Apply ``policy`` to an (x1, y1, x2, y2) box that may leave the image.

    Args:
        box (Sequence[float]): The box, 0-based pixel edges.
        width (int): Image width.
        height (int): Image height.
        policy (str): ``'clip'`` to the image (drop if nothing is left), ``'drop'`` any
            box that leaves it, or ``'keep'`` it unchanged.

    Returns:
        tuple[list[float] | None, str]: The box to write (None: drop it) and a note
        (empty when the box was fine).
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if x2 <= x1 or y2 <= y1:
        return None, f'degenerate box {box} dropped'
    inside = x1 >= 0 and y1 >= 0 and x2 <= width and y2 <= height
    if inside or policy == 'keep':
        return [x1, y1, x2, y2], '' if inside else f'box {box} leaves the {width}x{height} image'
    if policy == 'drop':
        return None, f'box {box} leaves the {width}x{height} image: dropped'
    cx1, cy1 = max(x1, 0.0), max(y1, 0.0)
    cx2, cy2 = min(x2, float(width)), min(y2, float(height))
    if cx2 <= cx1 or cy2 <= cy1:
        return None, f'box {box} lies outside the {width}x{height} image: dropped'
    return [cx1, cy1, cx2, cy2], f'box {box} clipped to the {width}x{height} image'


def _number(node, key: str) -> float:
    text = node.findtext(key) if node is not None else None
    if text is None or not text.strip():
        raise ValueError(f'no <{key}>')
    try:
        return float(text)
    except ValueError:
        raise ValueError(f'<{key}> is {text.strip()!r}, not a number') from None


def _parse_voc(xml_path: Path) -> dict:
    """The parts of a VOC file; an object that cannot be read carries ``error``."""
    root = ET.parse(xml_path).getroot()
    if root.tag != 'annotation':
        raise ValueError(f'the root element is <{root.tag}>, not <annotation>')
    size = root.find('size')
    objects = []
    for number, obj in enumerate(root.findall('object'), 1):
        name = (obj.findtext('name') or '').strip()
        entry = dict(name=name, number=number)
        try:
            bnd = obj.find('bndbox')
            if bnd is None:
                raise ValueError('no <bndbox>')
            entry['box'] = [_number(bnd, k) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
            entry['difficult'] = int(float(obj.findtext('difficult', '0') or 0))
        except ValueError as e:
            entry['error'] = str(e)
        objects.append(entry)
    sizes = []
    for key in ('width', 'height'):
        try:
            sizes.append(int(_number(size, key)))
        except ValueError:
            sizes.append(0)
    return dict(filename=(root.findtext('filename') or '').strip() or None, width=sizes[0],
                height=sizes[1], objects=objects)


def _image_frame(report: ConversionReport, xml_path: Path, ann: dict, stored: Tuple[int, int],
                 orientation: int) -> bool:
    """Whether the boxes were drawn on the stored pixels (to be turned by the EXIF
    orientation) rather than on the image as shown; notes what was decided."""
    sh, sw = stored
    shown = (sw, sh) if orientation in (5, 6, 7, 8) else (sh, sw)
    xml = (ann['height'], ann['width'])
    if xml[0] <= 0 or xml[1] <= 0:
        report.note(xml_path, f'no <size>: the image\'s {shown[1]}x{shown[0]} is used'
                    + (f' (EXIF orientation {orientation}: boxes taken as drawn on the '
                       'image as shown)' if orientation != 1 else ''))
        return False
    if orientation != 1 and xml == (sh, sw):
        both = xml == shown
        report.note(xml_path, f'boxes turned by the EXIF orientation {orientation}: the '
                    f'<size> {xml[1]}x{xml[0]} is that of the stored pixels'
                    + (' (and of the image as shown: assumed drawn on the stored pixels)'
                       if both else ''))
        return True
    if xml != shown:
        report.note(xml_path, f'<size> says {xml[1]}x{xml[0]} but the image is '
                    f'{shown[1]}x{shown[0]}: the image\'s size is used')
    return False


def voc_to_coco(xml_dir: Path,
                img_dir: Path,
                classes: Optional[Sequence[str]] = None,
                box_policy: str = 'clip',
                one_based: bool = True,
                progress: bool = False,
                check_images: str = 'decode') -> Tuple[dict, ConversionReport]:
    """Convert a folder of Pascal-VOC XML files into one COCO dict.

    Every image is checked (``check_images``); its COCO ``width`` / ``height`` are its
    own, as shown (EXIF orientation applied, as the loaders apply it). Where the
    ``<size>`` of an XML is that of the stored pixels of an EXIF-rotated photo (the
    annotation tool ignored the orientation), the boxes are turned onto the image as
    shown, with a note. Problems (``report.problems``: the file or object is left out):
    malformed XML, an unreadable object (no ``<bndbox>``, a coordinate that is not a
    number), an image that is missing, unreadable, corrupt or truncated, an image
    already converted from another XML, an unknown class, a degenerate box, a box
    leaving the image (clipped, dropped or kept by ``box_policy``).

    Args:
        xml_dir (Path): Folder of ``*.xml`` annotations.
        img_dir (Path): Folder of the images they name.
        classes (Sequence[str], optional): Class names in category-id order. Boxes of
            other classes are reported and skipped. None: every name found, sorted.
        box_policy (str): What to do with boxes leaving the image: ``'clip'``,
            ``'drop'`` or ``'keep'``. Defaults to ``'clip'``.
        one_based (bool): VOC coordinates are 1-based and inclusive (the VOC
            convention): ``x1 = xmin - 1``, ``x2 = xmax``. Defaults to True.
        progress (bool): Show a progress bar. Defaults to False.
        check_images (str): ``'decode'`` every image (finds truncated files) or read
            only its ``'header'`` (faster). Defaults to ``'decode'``.

    Returns:
        tuple[dict, ConversionReport]: The COCO dict (``difficult`` boxes get
        ``iscrowd=1``, so COCO evaluation ignores them as VOC's does) and the report.

    Raises:
        ValueError: If ``box_policy`` or ``check_images`` is unknown.
        FileNotFoundError: If a folder is missing or holds no XML file.
    """
    if box_policy not in BOX_POLICIES:
        raise ValueError(f'box_policy must be one of {BOX_POLICIES}, got {box_policy!r}')
    if check_images not in IMAGE_CHECKS:
        raise ValueError(f'check_images must be one of {IMAGE_CHECKS}, got {check_images!r}')
    xml_dir, img_dir = Path(xml_dir), Path(img_dir)
    for folder in (xml_dir, img_dir):
        if not folder.is_dir():
            raise FileNotFoundError(f'{folder}: not a directory')
    xml_files = sorted(xml_dir.glob('*.xml'))
    if not xml_files:
        raise FileNotFoundError(f'{xml_dir}: no .xml annotation files')
    report = ConversionReport()
    parsed = []
    for xml_path in _progress(xml_files, progress, 'reading VOC'):
        try:
            parsed.append((xml_path, _parse_voc(xml_path)))
        except (ET.ParseError, TypeError, ValueError, AttributeError) as e:
            report.problem(xml_path, f'unreadable annotation ({type(e).__name__}: {e})')
    if classes is None:
        classes = sorted({o['name'] for _, a in parsed for o in a['objects']
                          if 'error' not in o})
    cat_ids = {name: i + 1 for i, name in enumerate(classes)}
    images, annotations = [], []
    converted: Dict[Path, Path] = {}
    for xml_path, ann in _progress(parsed, progress, 'checking images'):
        img_path = _find_image(img_dir, ann['filename'], xml_path.stem)
        if img_path is None:
            report.problem(xml_path, f'image {ann["filename"]!r} not found in {img_dir}')
            continue
        if img_path in converted:
            report.problem(xml_path, f'{img_path.name} was already converted from '
                           f'{converted[img_path].name}: left out')
            continue
        try:
            height, width, orientation = image_header(img_path)
            if check_images == 'decode':
                read_image(img_path)
        except ImageFileError as e:
            report.problem(img_path, str(e))
            continue
        converted[img_path] = xml_path
        turn = _image_frame(report, xml_path, ann, (height, width), orientation)
        stored_w, stored_h = width, height
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        image_id = len(images) + 1
        images.append(dict(id=image_id, file_name=img_path.name, width=width, height=height))
        for obj in ann['objects']:
            label = f'object {obj["number"]} ({obj["name"] or "no name"})'
            if 'error' in obj:
                report.problem(xml_path, f'{label}: {obj["error"]}; left out')
                continue
            if obj['name'] not in cat_ids:
                report.problem(xml_path, f'class {obj["name"]!r} is not in the class list')
                continue
            x1, y1, x2, y2 = obj['box']
            if one_based:
                x1, y1 = x1 - 1, y1 - 1
            if turn:
                x1, y1, x2, y2 = orient_box((x1, y1, x2, y2), stored_w, stored_h, orientation)
            box, note = fix_box((x1, y1, x2, y2), width, height, box_policy)
            if note:
                report.problem(xml_path, note)
            if box is None:
                continue
            w, h = box[2] - box[0], box[3] - box[1]
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=cat_ids[obj['name']],
                bbox=[box[0], box[1], w, h], area=w * h, iscrowd=obj['difficult']))
            report.class_counts[obj['name']] += 1
    report.images, report.boxes = len(images), len(annotations)
    categories = [dict(id=i, name=name) for name, i in cat_ids.items()]
    return dict(images=images, annotations=annotations, categories=categories), report


def parse_box_list(path: Path) -> Dict[str, List[Tuple[List[float], int]]]:
    """Read an RTTS-style box list: ``image_path x1,y1,x2,y2,cls ...`` per line.

    Args:
        path (Path): The text file.

    Returns:
        dict[str, list[tuple[list[float], int]]]: Boxes and class indices by image
        basename.

    Raises:
        ValueError: On a malformed line, naming the file and the line number.
    """
    out = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        boxes = []
        for token in parts[1:]:
            values = token.split(',')
            if len(values) != 5:
                raise ValueError(f'{path}:{number}: box {token!r} is not x1,y1,x2,y2,cls')
            *coords, cls = values
            boxes.append(([float(v) for v in coords], int(cls)))
        out[Path(parts[0]).name] = boxes
    return out


def _progress(items: Iterable, show: bool, desc: str):
    if not show:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=desc, unit='file')
