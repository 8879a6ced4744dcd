"""Speech adapters: text-to-speech and speech recognition, each behind one interface.

``tts.TtsEngine`` (default: espeak-ng, Mandarin through pinyin, cached by text hash) and
``asr.AsrEngine`` (streaming; pocketsphinx, Vosk, sherpa-onnx, FunASR adapters). No model
or voice is downloaded at run time: engines use what is installed or a path the user gives.
"""
