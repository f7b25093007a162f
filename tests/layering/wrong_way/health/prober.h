// Exists so that the wrong-way include above names a real folder.
#pragma once
