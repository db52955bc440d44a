"""Batch sampling that puts every degradation type in every batch."""
import math
from typing import Dict, Iterator, List, Optional

from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import BatchSampler, Sampler


@DATA_SAMPLERS.register_module()
class DegradationBalancedBatchSampler(BatchSampler):
    """Batches holding every degradation type, in near-equal numbers.

    Like mmdet's ``AspectRatioBatchSampler``, it buckets the indices its sampler yields
    (here by ``get_data_info(i)['degradation_type']``) and emits a batch as soon as every
    bucket can give its share: ``batch_size // T`` samples of each of the ``T`` types, the
    remainder going to types in turn. It works with mmengine's ``InfiniteSampler``
    (iteration-based training) and ``DefaultSampler`` (epochs, distributed included: the
    sampler decides which indices this rank sees).

    With ``type_weights`` the shares follow the weights instead: type ``t`` gets
    ``batch_size * w_t / sum(w)`` samples per batch on average, each batch rounding so
    that every type's running count stays within one sample of its target (largest
    remainder on the running deficit). Every type still appears in every batch, so each
    share must be at least one sample. E.g. batch 10 of five types with
    ``type_weights=dict(rain=2)`` gives rain 3 or 4 per batch (10 / 3 on average), the
    others 1 or 2.

    Args:
        sampler (Sampler): The index sampler (its ``dataset`` gives the types).
        batch_size (int): Samples per batch; at least the number of types.
        drop_last (bool): Drop the last, incomplete batch of a finite sampler.
            Defaults to False.
        type_weights (dict[str, float], optional): A weight per degradation type (> 0;
            types not named weigh 1, names not in the data are an error). Defaults to
            None (equal shares, the remainder in turn).
    """

    def __init__(self,
                 sampler: Sampler,
                 batch_size: int,
                 drop_last: bool = False,
                 type_weights: Optional[Dict[str, float]] = None) -> None:
        if not isinstance(sampler, Sampler):
            raise TypeError(f'sampler must be a torch Sampler, got {type(sampler).__name__}')
        dataset = sampler.dataset
        self._types = [dataset.get_data_info(i).get('degradation_type')
                       for i in range(len(dataset))]
        self.type_names = sorted({t for t in self._types}, key=str)
        if batch_size < len(self.type_names):
            raise ValueError(f'batch_size {batch_size} cannot hold one sample of each of the '
                             f'{len(self.type_names)} degradation types {self.type_names}')
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.type_weights = self._check_weights(type_weights)

    def _check_weights(self, type_weights: Optional[Dict[str, float]]
                       ) -> Optional[Dict[object, float]]:
        if type_weights is None:
            return None
        unknown = sorted(set(type_weights) - set(self.type_names), key=str)
        if unknown:
            raise ValueError(f'type_weights names {unknown}, not degradation types of the '
                             f'data {self.type_names}')
        weights = {t: float(type_weights.get(t, 1.0)) for t in self.type_names}
        bad = {t: w for t, w in weights.items() if not (w > 0 and math.isfinite(w))}
        if bad:
            raise ValueError(f'type_weights must be finite and > 0, got {bad}')
        total = sum(weights.values())
        small = {t: round(self.batch_size * w / total, 3) for t, w in weights.items()
                 if self.batch_size * w / total < 1}
        if small:
            raise ValueError(f'batch_size {self.batch_size} with type_weights {type_weights} '
                             f'gives {small} samples per batch: every type needs at least one')
        return {t: w / total for t, w in weights.items()}

    def _weighted_quota(self, batch_number: int, given: Dict[object, int]) -> Dict[object, int]:
        target = {t: (batch_number + 1) * self.batch_size * w
                  for t, w in self.type_weights.items()}
        deficit = {t: target[t] - given[t] for t in self.type_names}
        quota = {t: int(math.floor(d + 1e-9)) for t, d in deficit.items()}
        left = self.batch_size - sum(quota.values())
        # the rest to the largest remainders (ties: the order of type_names)
        for t in sorted(self.type_names, key=lambda t: quota[t] - deficit[t])[:left]:
            quota[t] += 1
        return quota

    def _quota(self, batch_number: int, given: Dict[object, int]) -> Dict[object, int]:
        """Samples per type for batch ``batch_number``; ``given``: per type, so far."""
        if self.type_weights is not None:
            return self._weighted_quota(batch_number, given)
        n = len(self.type_names)
        base, extra = divmod(self.batch_size, n)
        return {t: base + (1 if (k - batch_number) % n < extra else 0)
                for k, t in enumerate(self.type_names)}

    def __iter__(self) -> Iterator[List[int]]:
        buckets: Dict[object, List[int]] = {t: [] for t in self.type_names}
        made = 0
        given = {t: 0 for t in self.type_names}
        quota = self._quota(made, given)
        for idx in self.sampler:
            buckets[self._types[idx]].append(idx)
            if all(len(buckets[t]) >= q for t, q in quota.items()):
                batch = []
                for t, q in quota.items():
                    batch += buckets[t][:q]
                    del buckets[t][:q]
                yield batch
                made += 1
                for t, q in quota.items():
                    given[t] += q
                quota = self._quota(made, given)
        leftover = [i for t in self.type_names for i in buckets[t]]
        while leftover:
            batch, leftover = leftover[:self.batch_size], leftover[self.batch_size:]
            if len(batch) == self.batch_size or not self.drop_last:
                yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
