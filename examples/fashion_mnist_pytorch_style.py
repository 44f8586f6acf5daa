"""Fashion-MNIST with a small MLP, written the way a PyTorch beginner writes it.

Everything below is plain PyTorch; the only nerve-specific line is ``import nerve as torch``.
Replace it with ``import torch`` and the script runs unchanged under PyTorch (no torchvision
needed: the Dataset reads the IDX files itself).

    python examples/fashion_mnist_pytorch_style.py --epochs 5
    python examples/fashion_mnist_pytorch_style.py --limit 3000 --epochs 2 --out /tmp/fmnist.pt

The data are the four gzipped IDX files of Fashion-MNIST (Debian: ``apt install
dataset-fashion-mnist`` puts them into /usr/share/datasets/fashion-mnist).
"""
import argparse
import gzip
import os
import time

import numpy as np

import nerve as torch

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]
MEAN, STD = 0.2860, 0.3530  # of the 60,000 training images, pixels scaled to [0, 1]


def read_idx(path):
    """An IDX file: 0x0000, type byte, number of dims, big-endian int32 sizes, then the data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


class FashionMNIST(torch.utils.data.Dataset):
    def __init__(self, root, train=True, limit=None):
        prefix = "train" if train else "t10k"
        images = read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"))
        if limit:
            images, labels = images[:limit], labels[:limit]
        # Scale to [0, 1], then normalise; keep a channel dim like torchvision's ToTensor.
        self.images = (torch.tensor(images, dtype=torch.float32) / 255 - MEAN) / STD
        self.images = self.images.unsqueeze(1)
        self.labels = torch.tensor(labels, dtype=torch.long)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return self.images[idx], self.labels[idx]


class MLP(torch.nn.Module):
    def __init__(self, hidden=256, dropout=0.2):
        super().__init__()
        self.flatten = torch.nn.Flatten()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(28 * 28, hidden),
            torch.nn.ReLU(),
            torch.nn.Dropout(dropout),
            torch.nn.Linear(hidden, hidden),
            torch.nn.ReLU(),
            torch.nn.Dropout(dropout),
            torch.nn.Linear(hidden, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.layers(x)
        return logits


def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        total_loss += loss.item() * X.size(0)
        correct += (pred.argmax(1) == y).sum().item()
        seen += X.size(0)
    return total_loss / seen, correct / seen


def evaluate(model, loader, loss_fn, device):
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            total_loss += loss_fn(pred, y).item() * X.size(0)
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
            seen += X.size(0)
    return total_loss / seen, correct / seen


def main():
    parser = argparse.ArgumentParser(description="Fashion-MNIST MLP")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="folder with the IDX .gz files")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test samples")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="fashion_mlp.pt", help="where to save the trained weights")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"Using {device} device")

    train_data = FashionMNIST(args.data, train=True, limit=args.limit)
    test_data = FashionMNIST(args.data, train=False, limit=args.limit)
    train_loader = torch.utils.data.DataLoader(train_data, batch_size=args.batch_size, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_data, batch_size=256)
    print(f"{len(train_data)} training and {len(test_data)} test images")

    model = MLP().to(device)
    print(model)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    start = time.time()
    for epoch in range(1, args.epochs + 1):
        train_loss, train_acc = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        test_loss, test_acc = evaluate(model, test_loader, loss_fn, device)
        print(f"Epoch {epoch}: train loss {train_loss:.4f}, train accuracy {100 * train_acc:.2f}% | "
              f"test loss {test_loss:.4f}, test accuracy {100 * test_acc:.2f}% | {time.time() - start:.1f} s")
    print(f"Test accuracy: {100 * test_acc:.2f}%")

    torch.save(model.state_dict(), args.out)
    print(f"Saved model weights to {args.out}")

    # Load the weights into a fresh model and check it predicts the same.
    model2 = MLP().to(device)
    model2.load_state_dict(torch.load(args.out, weights_only=True))
    _, reloaded_acc = evaluate(model2, test_loader, loss_fn, device)
    print(f"Reloaded model test accuracy: {100 * reloaded_acc:.2f}%")

    X, y = test_data[0]
    model2.eval()
    with torch.no_grad():
        pred = model2(X.unsqueeze(0).to(device))
    print(f'First test image: predicted "{CLASSES[pred.argmax(1).item()]}", actual "{CLASSES[y.item()]}"')


if __name__ == "__main__":
    main()
