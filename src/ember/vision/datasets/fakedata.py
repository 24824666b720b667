"""FakeData: random images, reproducible per index."""
from ... import random as _random
from .vision import VisionDataset


class FakeData(VisionDataset):
    """``size`` random images of ``image_size`` (C, H, W) with random labels below ``num_classes``.

    Each index always gives the same image (its generator is seeded with the
    index plus ``random_offset``); images are PIL images unless a transform changes them.
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        """(image, target) for ``index``; IndexError past the end."""
        import ember
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        g = _random.Generator().manual_seed(index + self.random_offset)
        img = ember.randn(*self.image_size, generator=g)
        target = ember.randint(0, self.num_classes, size=(1,), dtype=ember.long, generator=g)[0]
        from ..transforms import functional as F
        img = F.to_pil_image(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target.item()

    def __len__(self):
        return self.size
