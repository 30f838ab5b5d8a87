"""`[tool.rewriter]` in pyproject.toml: discovery, every key, errors, CLI precedence."""
import sys
import textwrap
from pathlib import Path

import pytest

from rewriter.config import KNOWN_KEYS, Config, ConfigError, config_from_toml, load_config, load_registry


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path):
    (tmp_path / ".git").mkdir()
    return tmp_path


# -- discovery -------------------------------------------------------------------------------

def test_no_pyproject_gives_defaults(repo):
    config = load_config(repo / "src")
    assert config == Config()
    assert config.root is None and config.path is None
    assert config.include == () and config.exclude == ()
    assert config.select == frozenset() and config.ignore == frozenset()
    assert config.patterns == () and config.verify is False
    assert config.device is None and config.jobs is None


def test_nearest_pyproject_from_a_nested_folder_and_from_a_file(repo):
    write(repo / "pyproject.toml", "[tool.rewriter]\njobs = 3\n")
    source = write(repo / "src" / "pkg" / "mod.py", "x = 1\n")
    for start in (source.parent, source):
        config = load_config(start)
        assert config.jobs == 3
        assert config.root == repo.resolve()
        assert config.path == (repo / "pyproject.toml").resolve()


def test_nearer_pyproject_wins(repo):
    write(repo / "pyproject.toml", "[tool.rewriter]\njobs = 3\n")
    write(repo / "sub" / "pyproject.toml", "[tool.rewriter]\njobs = 5\n")
    assert load_config(repo / "sub").jobs == 5
    assert load_config(repo / "sub").root == (repo / "sub").resolve()


def test_pyproject_without_the_table_is_passed_over(repo):
    write(repo / "pyproject.toml", "[tool.rewriter]\njobs = 3\n")
    write(repo / "sub" / "pyproject.toml", "[project]\nname = 'sub'\n")
    assert load_config(repo / "sub").jobs == 3


def test_search_stops_at_the_repository_root(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.rewriter]\njobs = 3\n")
    inner = tmp_path / "checkout"
    (inner / ".git").mkdir(parents=True)
    assert load_config(inner) == Config()


def test_empty_table(repo):
    write(repo / "pyproject.toml", "[tool.rewriter]\n")
    config = load_config(repo)
    assert config.root == repo.resolve()
    assert config.merge({}) == config
    assert config.jobs is None


# -- each key --------------------------------------------------------------------------------

def test_every_key(repo):
    write(repo / "pyproject.toml", """
        [tool.rewriter]
        include = ["src/**/*.py", "*.ipynb"]
        exclude = ["src/legacy/**"]
        select = ["RW001", "np2"]
        ignore = ["NP105"]
        patterns = ["tools.my_patterns"]
        verify = true
        device = "/GPU:0"
        jobs = 4
    """)
    config = load_config(repo)
    assert config.include == ("src/**/*.py", "*.ipynb")
    assert config.exclude == ("src/legacy/**",)
    assert config.select == frozenset({"RW001", "NP2"})
    assert config.ignore == frozenset({"NP105"})
    assert config.patterns == ("tools.my_patterns",)
    assert config.verify is True
    assert config.device == "/GPU:0"
    assert config.jobs == 4
    assert set(KNOWN_KEYS) == {"include", "exclude", "select", "ignore", "patterns", "verify", "device", "jobs"}


def test_include_exclude_are_matched_relative_to_the_root(repo):
    write(repo / "pyproject.toml", """
        [tool.rewriter]
        include = ["src/"]
        exclude = ["src/legacy/"]
    """)
    config = load_config(repo)
    assert config.selects(repo / "src" / "a.py")
    assert not config.selects(repo / "src" / "legacy" / "b.py")
    assert not config.selects(repo / "scripts" / "c.py")
    assert Config().selects(repo / "anything.py")


def test_select_and_ignore_reach_the_rewrite_options(repo):
    write(repo / "pyproject.toml", '[tool.rewriter]\nselect = ["RW0"]\nignore = ["NP1"]\n')
    options = load_config(repo).rewrite_options()
    assert options.select == frozenset({"RW0"}) and options.ignore == frozenset({"NP1"})
    assert options.registry is None  # the shipped registry


@pytest.fixture
def isolated_imports(monkeypatch):
    """sys.path and sys.modules as they were, after the test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("rwcfg_tools"):
            del sys.modules[name]


def test_pattern_modules_are_imported_from_the_root(repo, isolated_imports):
    write(repo / "rwcfg_tools" / "__init__.py", "")
    write(repo / "rwcfg_tools" / "extra_patterns.py", """
        from rewriter.pattern import Pattern
        FAMILY_CODE = "XP1"
        PATTERNS = (Pattern("numpy.spacing", examples=("np.spacing(a)",), tf="tf.zeros_like(x)"),)
    """)
    write(repo / "pyproject.toml", '[tool.rewriter]\npatterns = ["rwcfg_tools.extra_patterns"]\n')
    config = load_config(repo)
    registry = config.registry()
    assert registry.get("numpy.spacing").code == "XP1000"
    assert str(repo.resolve()) in sys.path
    assert config.rewrite_options().registry is registry
    assert load_registry(config.root, config.patterns) is registry  # loaded once per process


def test_missing_pattern_module_is_a_config_error(repo, isolated_imports):
    write(repo / "pyproject.toml", '[tool.rewriter]\npatterns = ["no_such_patterns_module_xyz"]\n')
    with pytest.raises(ConfigError, match="no_such_patterns_module_xyz"):
        load_config(repo).registry()


# -- errors ----------------------------------------------------------------------------------

def test_unknown_key(repo, monkeypatch):
    monkeypatch.chdir(repo)
    write(repo / "pyproject.toml", "[tool.rewriter]\njobs = 2\nfoo = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(repo)
    message = str(info.value)
    assert message.startswith("pyproject.toml: unknown key `tool.rewriter.foo` (known: include, exclude,")
    assert "jobs" in message


@pytest.mark.parametrize("key, value, expected", [
    ("include", '"src/*.py"', "a list of glob strings"),
    ("exclude", "[1]", "a list of glob strings"),
    ("select", '"RW001"', "a list of rule-code prefixes"),
    ("select", '["RW 001"]', "not a rule code"),
    ("ignore", "[true]", "a list of rule-code prefixes"),
    ("patterns", '["not a module"]', "dotted module name"),
    ("verify", '"yes"', "a boolean"),
    ("device", "0", "a device string"),
    ("device", '""', "a device string"),
    ("jobs", "0", "an integer >= 1"),
    ("jobs", "2.5", "an integer >= 1"),
    ("jobs", "true", "an integer >= 1"),
])
def test_type_errors_name_the_key_and_the_type(key, value, expected):
    with pytest.raises(ConfigError) as info:
        config_from_toml(f"[tool.rewriter]\n{key} = {value}\n")
    message = str(info.value)
    assert f"`tool.rewriter.{key}`" in message
    assert expected in message


def test_invalid_toml(repo):
    write(repo / "pyproject.toml", "[tool.rewriter\njobs = 2\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(repo)


def test_table_must_be_a_table():
    with pytest.raises(ConfigError, match="must be a table"):
        config_from_toml("[tool]\nrewriter = 3\n")


# -- precedence ------------------------------------------------------------------------------

def test_cli_values_override_the_file_and_none_keeps_it(repo):
    write(repo / "pyproject.toml", """
        [tool.rewriter]
        select = ["RW001"]
        exclude = ["a/**"]
        jobs = 4
        verify = true
        device = "/GPU:0"
    """)
    config = load_config(repo)
    merged = config.merge({"select": "np1, RW002", "jobs": 1, "verify": None, "device": None,
                           "exclude": None, "ignore": ["NP105"]})
    assert merged.select == frozenset({"NP1", "RW002"})
    assert merged.ignore == frozenset({"NP105"})
    assert merged.jobs == 1
    assert merged.verify is True and merged.device == "/GPU:0" and merged.exclude == ("a/**",)
    assert merged.root == config.root
    assert config.jobs == 4  # frozen: merge returns a copy
    assert config.merge({"verify": False}).verify is False  # False is a value, not "unset"
    assert config.merge({"select": ""}).select == frozenset()  # an empty value clears


def test_cli_values_are_validated():
    with pytest.raises(ConfigError, match="--jobs must be an integer >= 1"):
        Config().merge({"jobs": 0})
    with pytest.raises(ValueError, match="not a setting: paths"):
        Config().merge({"paths": ["x"]})


def test_frozen():
    with pytest.raises(AttributeError):
        Config().jobs = 3
