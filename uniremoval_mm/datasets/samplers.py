"""Batch sampling that puts every degradation type in every batch."""
from typing import Dict, Iterator, List

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

    Args:
        sampler (Sampler): The index sampler (its ``dataset`` gives the types).
        batch_size (int): Samples per batch; at least the number of types.
        drop_last (bool): Drop the last, incomplete batch of a finite sampler.
            Defaults to False.
    """

    def __init__(self, sampler: Sampler, batch_size: int, drop_last: bool = False) -> None:
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

    def _quota(self, batch_number: int) -> Dict[object, int]:
        n = len(self.type_names)
        base, extra = divmod(self.batch_size, n)
        return {t: base + (1 if (k - batch_number) % n < extra else 0)
                for k, t in enumerate(self.type_names)}

    def __iter__(self) -> Iterator[List[int]]:
        buckets: Dict[object, List[int]] = {t: [] for t in self.type_names}
        made = 0
        quota = self._quota(made)
        for idx in self.sampler:
            buckets[self._types[idx]].append(idx)
            if all(len(buckets[t]) >= q for t, q in quota.items()):
                batch = []
                for t, q in quota.items():
                    batch += buckets[t][:q]
                    del buckets[t][:q]
                yield batch
                made += 1
                quota = self._quota(made)
        leftover = [i for t in self.type_names for i in buckets[t]]
        while leftover:
            batch, leftover = leftover[:self.batch_size], leftover[self.batch_size:]
            if len(batch) == self.batch_size or not self.drop_last:
                yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
